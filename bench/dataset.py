"""Generate a labelled image set (duplicates and hard negatives) for measuring detection."""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.pictures import (
    background,
    border,
    caption,
    make_artwork,
    make_document_page,
    make_form,
    make_photo,
    photo_size,
    random_form_template,
    random_form_values,
    random_layout,
    random_shapes,
    render_shapes,
    rescan,
    to_image,
    vary_form_values,
)

KIND_OF_TRANSFORM: dict[str, str] = {
    "original": "original",
    "exact": "exact",
    "png_resave": "same_pixels",
    "meta_strip": "same_pixels",
    "tiff": "same_pixels",
    "webp": "near",
    "resize50": "near",
    "resize25": "near",
    "jpeg40": "near",
    "crop": "near",
    "border": "near",
    "rescan": "near",
    "grey": "near",
    "watermark": "near",
    "rot90": "rotated",
    "rot180": "rotated",
    "rot270": "rotated",
    "mirror_h": "rotated",
    "mirror_v": "rotated",
}
COPY_TRANSFORMS = tuple(t for t in KIND_OF_TRANSFORM if t != "original")


@dataclass(frozen=True)
class Record:
    """One generated file; files sharing group_id are the same picture."""

    path: str
    group_id: str
    transform: str
    kind: str
    content: str  # photo / artwork / document / form
    family: str | None = None  # distinct groups that merely look alike
    family_kind: str | None = None  # burst / doc_page / form / crop


# --- scene generators -------------------------------------------------------------


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _encode_like(img: Image.Image, fmt: str) -> bytes:
    return _encode(img, fmt, quality=90) if fmt == "JPEG" else _encode(img, fmt, compress_level=1)


def _strip_jpeg_app_segments(data: bytes) -> bytes:
    """Drop APP1..APP15 segments (EXIF/XMP/IPTC) without touching the entropy-coded pixels."""
    out, i = bytearray(data[:2]), 2
    while i < len(data) - 1 and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is pixels
            out += data[i:]
            return bytes(out)
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if not 0xE1 <= marker <= 0xEF:
            out += data[i : i + 2 + length]
        i += 2 + length
    return bytes(out)


def apply_transform(rng: np.random.Generator, name: str, img: Image.Image, data: bytes, fmt: str) -> tuple[bytes, str]:
    """Return (file bytes, extension) of a duplicate made by transform `name`."""
    ext = {"JPEG": "jpg", "PNG": "png"}[fmt]
    w, h = img.size
    if name == "exact":
        return data, ext
    if name == "png_resave":
        return _encode(img, "PNG", compress_level=2), "png"
    if name == "meta_strip":
        if fmt == "JPEG":
            return _strip_jpeg_app_segments(data), "jpg"
        return _encode(img, "PNG", compress_level=1), "png"  # same pixels, no text chunk
    if name == "tiff":
        return _encode(img, "TIFF", compression="tiff_lzw"), "tif"
    if name == "webp":
        return _encode(img, "WEBP", quality=80), "webp"
    if name in ("resize50", "resize25"):
        f = 0.5 if name == "resize50" else 0.25
        return _encode_like(img.resize((max(1, int(w * f)), max(1, int(h * f))), Image.LANCZOS), fmt), ext
    if name == "jpeg40":
        return _encode(img, "JPEG", quality=40), "jpg"
    if name == "crop":
        left, top, right, bottom = (rng.uniform(0.02, 0.05, 4) * [w, h, w, h]).astype(int)
        return _encode_like(img.crop((left, top, w - right, h - bottom)), fmt), ext
    if name == "border":
        return _encode_like(border(rng, img), fmt), ext
    if name == "rescan":
        return _encode(rescan(rng, img), "JPEG", quality=85), "jpg"
    if name == "grey":
        return _encode_like(img.convert("L"), fmt), ext
    if name == "watermark":
        return _encode_like(caption(rng, img), fmt), ext
    method = {
        "rot90": Image.Transpose.ROTATE_90,
        "rot180": Image.Transpose.ROTATE_180,
        "rot270": Image.Transpose.ROTATE_270,
        "mirror_h": Image.Transpose.FLIP_LEFT_RIGHT,
        "mirror_v": Image.Transpose.FLIP_TOP_BOTTOM,
    }[name]
    return _encode_like(img.transpose(method), fmt), ext


def _encode_original(img: Image.Image, fmt: str, group_id: str) -> bytes:
    """Originals carry metadata so a stripped copy really differs in bytes."""
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010E] = f"Collection item {group_id}"
        exif[0x013B] = "Hong Kong Archive"
        return _encode(img, "JPEG", quality=90, exif=exif.tobytes())
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Description", f"Collection item {group_id}")
    return _encode(img, "PNG", pnginfo=info, compress_level=1)


# --- assembling the set ----------------------------------------------------------------------


class _Writer:
    """Writes originals and their copies and keeps the records."""

    def __init__(self, out_dir: Path, rng: np.random.Generator) -> None:
        self.out_dir, self.rng, self.records = out_dir, rng, []

    def add(
        self,
        group_id: str,
        img: Image.Image,
        fmt: str,
        content: str,
        n_copies: int,
        family: str | None = None,
        family_kind: str | None = None,
    ) -> None:
        data = _encode_original(img, fmt, group_id)
        self._write(group_id, "original", data, "jpg" if fmt == "JPEG" else "png", content, family, family_kind)
        for name in self.rng.choice(COPY_TRANSFORMS, n_copies, replace=False):
            copy, ext = apply_transform(self.rng, str(name), img, data, fmt)
            self._write(group_id, str(name), copy, ext, content, family, family_kind)

    def _write(self, group_id, transform, data, ext, content, family, family_kind) -> None:  # noqa: ANN001
        path = self.out_dir / f"{group_id}__{transform}.{ext}"
        path.write_bytes(data)
        self.records.append(
            Record(str(path), group_id, transform, KIND_OF_TRANSFORM[transform], content, family, family_kind)
        )


def _burst_family(w: _Writer, fam: str, shots: int, copies: Callable[[], int]) -> None:
    """Successive shots: the camera drifts a few %, one or two objects move, exposure changes."""
    rng = w.rng
    fw, fh = photo_size(rng, large_share=0.1)
    pad = 0.1
    sw, sh = int(fw * (1 + 2 * pad)), int(fh * (1 + 2 * pad))
    shapes = random_shapes(rng, sw, sh, int(rng.integers(5, 14)))
    base = background(rng, sw, sh)
    for k in range(shots):
        ang = rng.uniform(0, 2 * np.pi)
        shift = rng.uniform(0.02, 0.06)
        x0 = int(pad * fw + np.cos(ang) * shift * fw)
        y0 = int(pad * fh + np.sin(ang) * shift * fh)
        movers = rng.choice(len(shapes), int(rng.integers(1, 3)), replace=False)
        offsets = {int(i): tuple(rng.uniform(-0.04, 0.04, 2) * [fw, fh]) for i in movers}
        arr = render_shapes(base, shapes, offsets)[y0 : y0 + fh, x0 : x0 + fw]
        arr = arr * rng.uniform(0.85, 1.15) + rng.normal(0, 2.5, arr.shape[:2])[..., None]
        w.add(f"{fam}s{k}", to_image(arr, 1.0), "JPEG", "photo", copies(), fam, "burst")


def _crop_family(w: _Writer, fam: str, crops: int, copies: Callable[[], int]) -> None:
    """Crops of one larger photo, each pair overlapping roughly 60-80%."""
    rng = w.rng
    big = make_photo(rng, (int(rng.integers(1400, 2600)), int(rng.integers(1100, 1800))))
    bw, bh = big.size
    boxes: list[tuple[int, int, int, int]] = []
    for _ in range(200):  # rejection sampling: every pair overlaps 55-82% of the smaller crop
        if len(boxes) == crops:
            break
        frac = rng.uniform(0.75, 0.88)
        cw, ch = int(bw * frac), int(bh * frac)
        x0, y0 = int(rng.uniform(0, bw - cw)), int(rng.uniform(0, bh - ch))
        box = (x0, y0, x0 + cw, y0 + ch)
        if all(0.55 <= _overlap(box, other) <= 0.82 for other in boxes):
            boxes.append(box)
    for k, box in enumerate(boxes):
        w.add(f"{fam}c{k}", big.crop(box), "JPEG", "photo", copies(), fam, "crop")


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection as a share of the smaller box."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller


def _original_unit(w: _Writer, i: int, copies_per_original: int) -> None:
    rng = w.rng
    content = str(rng.choice(["photo", "photo", "photo", "artwork", "document", "form"]))
    if content == "photo":
        img, fmt = make_photo(rng, photo_size(rng)), "JPEG"
    elif content == "artwork":
        img, fmt = make_artwork(rng, photo_size(rng, 0.1)), "PNG"
    elif content == "document":
        img, fmt = make_document_page(rng, random_layout(rng), int(rng.integers(1, 300))), "PNG"
    else:
        t = random_form_template(rng)
        img, fmt = make_form(t, random_form_values(rng, t)), "PNG"
    n = 0 if rng.random() < 0.15 else copies_per_original  # some originals have no duplicate
    w.add(f"o{i:04d}", img, fmt, content, n)


def _family_unit(w: _Writer, f: int) -> None:
    rng = w.rng
    copies = lambda: int(rng.integers(2, 4))  # noqa: E731 - hard-negative members get a few copies
    _burst_family(w, f"burst{f:02d}", int(rng.integers(3, 6)), copies)
    _crop_family(w, f"crop{f:02d}", int(rng.integers(3, 5)), copies)
    layout = random_layout(rng)
    for p in range(int(rng.integers(3, 6))):
        page = make_document_page(rng, layout, p + 1)
        w.add(f"doc{f:02d}p{p}", page, "PNG", "document", copies(), f"doc{f:02d}", "doc_page")
    template = random_form_template(rng)
    base = random_form_values(rng, template)
    for k in range(int(rng.integers(4, 8))):
        values = vary_form_values(rng, template, base)
        w.add(f"form{f:02d}f{k}", make_form(template, values), "PNG", "form", copies(), f"form{f:02d}", "form")


def _run_unit(job: tuple[str, int, int, np.random.SeedSequence, Path]) -> list[Record]:
    """One original (with copies) or one hard-negative family; own seed so workers agree."""
    kind, index, copies_per_original, seed, out = job
    w = _Writer(out, np.random.default_rng(seed))
    if kind == "original":
        _original_unit(w, index, copies_per_original)
    elif kind == "family":
        _family_unit(w, index)
    else:
        _add_shipped_images(w)
    return w.records


def make_dataset(
    out_dir: str | Path,
    n_originals: int = 150,
    seed: int = 7,
    copies_per_original: int = 7,
    n_families: int = 10,
    workers: int | None = None,
) -> list[Record]:
    """Write a labelled set to out_dir and return its records (about 10 files per original)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kinds = ["family"] * n_families + ["original"] * n_originals + ["shipped"]
    indices = list(range(n_families)) + list(range(n_originals)) + [0]
    seeds = np.random.SeedSequence(seed).spawn(len(kinds))
    jobs = [(k, i, copies_per_original, s, out) for k, i, s in zip(kinds, indices, seeds, strict=False)]
    with multiprocessing.Pool(workers or os.cpu_count() or 1) as pool:
        records = [r for unit in pool.imap(_run_unit, jobs) for r in unit]
    (out / "labels.json").write_text(json.dumps([asdict(r) for r in records], indent=0))
    return records


def _add_shipped_images(w: _Writer) -> None:
    """Real images that installed packages ship, when present, as extra originals."""
    import sys

    for path in sorted((Path(sys.prefix) / "images").glob("*.png"))[:1]:
        img = Image.open(path).convert("RGB")
        w.add("shipped_imagehash", img, "PNG", "artwork", 5)


def load_dataset(out_dir: str | Path) -> list[Record]:
    return [Record(**r) for r in json.loads((Path(out_dir) / "labels.json").read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--originals", type=int, default=150)
    parser.add_argument("--families", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    records = make_dataset(args.out_dir, n_originals=args.originals, seed=args.seed, n_families=args.families)
    print(f"{len(records)} files in {time.perf_counter() - start:.1f} s -> {args.out_dir}")


if __name__ == "__main__":
    main()
