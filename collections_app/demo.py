"""Generated demo images: a few originals and typical duplicates (resized, re-saved, rotated, greyscale)."""

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps


def _scene(seed: int, size=(1200, 800)) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(60, 420), rng.randrange(60, 320)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x, y, x + w, y + h], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(2))


def write_demo_images(folder: Path, originals: int = 8) -> int:
    """Write originals plus duplicate copies into folder/<department>/; returns how many files exist."""
    (folder / "photo-unit").mkdir(parents=True, exist_ok=True)
    (folder / "events-portal").mkdir(parents=True, exist_ok=True)
    for n in range(originals):
        image = _scene(n)
        image.save(folder / "photo-unit" / f"scene-{n:02d}.jpg", quality=92)
        if n % 2 == 0:
            image.resize((600, 400)).save(folder / "events-portal" / f"IMG_{n:04d}_small.jpg", quality=80)
        if n % 3 == 0:
            image.save(folder / "events-portal" / f"scene-{n:02d}-master.png")
        if n % 4 == 1:
            image.rotate(90, expand=True).save(folder / "events-portal" / f"scene-{n:02d}-rotated.jpg", quality=90)
        if n % 4 == 3:
            ImageOps.grayscale(image).save(folder / "events-portal" / f"scene-{n:02d}-grey.jpg", quality=90)
    (folder / "events-portal" / "notes.txt").write_text("Not an image: the ingest summary lists it as skipped.\n")
    return sum(1 for p in folder.rglob("*") if p.is_file())
