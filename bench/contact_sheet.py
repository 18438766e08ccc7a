"""Draw a contact sheet of random copies from a generated set, each captioned with its category and transform.

python -m bench.contact_sheet DIR [--n 30] [--seed 0] [--out sheet.png] [--family-kind KIND]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from bench.dataset import load_dataset
from bench.edits import font

TILE = 300


def _tile(path: str, lines: list[str]) -> Image.Image:
    tile = Image.new("RGB", (TILE, TILE + 46), (255, 255, 255))
    with Image.open(path) as img:
        img.draft("RGB", (TILE * 2, TILE * 2))
        thumb = ImageOps.contain(img.convert("RGB"), (TILE - 8, TILE - 8))
    tile.paste(thumb, ((TILE - thumb.width) // 2, (TILE - thumb.height) // 2))
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, TILE - 1, TILE - 1), outline=(200, 200, 200))
    for k, line in enumerate(lines):
        draw.text((4, TILE + 2 + k * 14), line[:48], font=font(12), fill=(0, 0, 0))
    return tile


def contact_sheet(folder: str | Path, n: int = 30, seed: int = 0, family_kind: str | None = None) -> Image.Image:
    records = load_dataset(folder)
    if family_kind:
        pool = [r for r in records if r.family_kind == family_kind]
    else:
        pool = [r for r in records if r.transform != "original"]
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    cols = 6
    sheet = Image.new("RGB", (cols * TILE, -(-len(picked) // cols) * (TILE + 46)), (255, 255, 255))
    for k, r in enumerate(picked):
        lines = [f"{r.category}: {r.transform}", f"{r.content} {Path(r.path).name}", r.family_kind or ""]
        sheet.paste(_tile(r.path, lines), ((k % cols) * TILE, (k // cols) * (TILE + 46)))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family-kind", help="show members of look-alike families of this kind instead")
    parser.add_argument("--out", default="contact_sheet.png")
    args = parser.parse_args()
    contact_sheet(args.dir, args.n, args.seed, args.family_kind).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
