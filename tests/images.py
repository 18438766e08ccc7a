"""Test images made in memory with Pillow."""

import io
import random
import zipfile
import zlib

from PIL import Image, ImageDraw, ImageFilter


def scene(seed: int = 0, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A varied, photo-like picture: different seeds give genuinely different images."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(size[0] // 10, size[0] // 2), rng.randrange(size[1] // 10, size[1] // 2)
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x, y, x + w, y + h], fill=fill)
    return image.filter(ImageFilter.GaussianBlur(1.5))


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims a size; the pixel data is a token few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def one_place_changed() -> tuple[Image.Image, Image.Image]:
    """A photograph, and the same one with other content in one compact place (a flipped piece of its corner
    pasted near the middle): what verification cannot settle alone, a possible duplicate."""
    a = scene(13)
    b = a.copy()
    piece = a.crop((40, 40, 40 + a.width // 6, 40 + a.height // 6)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    b.paste(piece, (a.width // 2, a.height // 2))
    return a, b
