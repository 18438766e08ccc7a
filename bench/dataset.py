"""Generate a labelled image set (duplicates and look-alikes) for measuring detection.

    python -m bench.dataset DIR --originals N --seed S [--families F] [--material DIR]

Originals are drawn photos, artwork, document pages, letters and forms, plus real photographs, artwork and
rendered manual pages from the cache that `python -m bench.real_material` builds (default
var/bench-material; without it the set is procedural only). Every copy of an original carries one edit or
a combination, labelled with its `transform` and its `category`; look-alike families (different pictures,
each member its own group) carry `family` and `family_kind`. Labels go to DIR/labels.json.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import multiprocessing
import os
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from bench import edits, families
from bench.documents import make_letter
from bench.edits import Box
from bench.real_material import DEFAULT_DIR, Item, load_items
from tests.pictures import (
    make_artwork,
    make_document_page,
    make_form,
    make_photo,
    photo_size,
    random_form_template,
    random_form_values,
    random_layout,
)

CATEGORIES = (
    "exact",
    "same_pixels",
    "reencode",
    "resize",
    "crop",
    "grey",
    "rotate_mirror",
    "caption_watermark",
    "stamp_mark",
    "border_mat",
    "skew",
    "perspective",
    "rescan",
    "combined",
)
PAPER = ("document", "form")
KIND_OF_CATEGORY = {"original": "original", "exact": "exact", "same_pixels": "same_pixels", "rotate_mirror": "rotated"}
# How often a copy falls in each category; the open-ended edits may come twice to one original.
WEIGHTS = {
    "exact": 1.0,
    "same_pixels": 1.0,
    "reencode": 1.0,
    "resize": 1.0,
    "crop": 1.0,
    "grey": 0.8,
    "rotate_mirror": 1.0,
    "caption_watermark": 1.6,
    "stamp_mark": 1.6,
    "border_mat": 1.6,
    "skew": 1.3,
    "perspective": 1.0,
    "rescan": 1.0,
    "combined": 1.6,
}
TWICE = ("caption_watermark", "stamp_mark", "border_mat", "skew", "combined")
COMBINABLE = ("resize", "crop", "mat", "caption_bar", "grey", "skew")
REAL_SHARE = 0.5  # of the originals, when the cache has enough real pictures


@dataclass(frozen=True)
class Record:
    """One generated file; files sharing group_id are the same picture."""

    path: str
    group_id: str
    transform: str
    kind: str  # original / exact / same_pixels / near / rotated
    content: str  # photo / artwork / document / form
    family: str | None = None  # distinct groups that merely look alike
    family_kind: str | None = None  # burst / crop / doc_page / form / form_field / date_stamp / note
    category: str | None = None  # original, or one of CATEGORIES
    source: str | None = None  # package:/path[#page=N] of a real picture; None when drawn
    params: str | None = None  # JSON of what the edit drew (sizes, angles, texts); for reading, not scoring


# --- encoding ----------------------------------------------------------------------------------


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _encode_like(img: Image.Image, fmt: str) -> tuple[bytes, str]:
    if fmt == "JPEG":
        return _encode(img, "JPEG", quality=90), "jpg"
    return _encode(img, "PNG", compress_level=1), "png"


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


def encode_original(img: Image.Image, fmt: str, group_id: str) -> bytes:
    """Originals carry metadata so a stripped copy really differs in bytes."""
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010E] = f"Collection item {group_id}"
        exif[0x013B] = "Hong Kong Archive"
        return _encode(img, "JPEG", quality=90, exif=exif.tobytes())
    info = PngInfo()
    info.add_text("Description", f"Collection item {group_id}")
    return _encode(img, "PNG", pnginfo=info, compress_level=1)


# --- copies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Original:
    img: Image.Image
    data: bytes
    fmt: str  # JPEG / PNG
    content: str
    protect: Box | None  # must stay visible in every copy


def pick_categories(rng: np.random.Generator, content: str, n: int) -> list[str]:
    """n categories for the copies of one original, by WEIGHTS; open-ended ones at most twice."""
    slots, weights = [], []
    for cat in CATEGORIES:
        if cat == "stamp_mark" and content not in PAPER:
            continue
        slots.append(cat)
        weights.append(WEIGHTS[cat])
        if cat in TWICE:
            slots.append(cat)
            weights.append(WEIGHTS[cat] * 0.4)
    p = np.array(weights) / sum(weights)
    chosen = rng.choice(len(slots), min(n, len(slots)), replace=False, p=p)
    return [slots[i] for i in chosen]


def make_copy(rng: np.random.Generator, category: str, o: Original) -> tuple[bytes, str, str, dict]:
    """Return (file bytes, extension, transform name, parameters) of one copy in `category`."""
    if category == "exact":
        return o.data, ("jpg" if o.fmt == "JPEG" else "png"), "exact", {}
    if category == "same_pixels":
        return _same_pixels(rng, o)
    if category == "reencode":
        if rng.random() < 0.7:
            q = int(rng.integers(30, 96))
            return _encode(o.img, "JPEG", quality=q), "jpg", "jpeg", {"quality": q}
        q = int(rng.integers(40, 96))
        return _encode(o.img, "WEBP", quality=q), "webp", "webp", {"quality": q}
    if category == "rotate_mirror":
        name = str(rng.choice(list(edits.ROTATIONS)))
        return (*_encode_like(o.img.transpose(edits.ROTATIONS[name]), o.fmt), name, {})
    if category == "rescan":
        img, params, _ = edits.rescan(rng, o.img)
        if rng.random() < 0.8:
            q = int(rng.integers(75, 93))
            return _encode(img, "JPEG", quality=q), "jpg", "rescan", {**params, "quality": q}
        return _encode(img, "PNG", compress_level=1), "png", "rescan", params
    if category == "combined":
        return _combined(rng, o)
    name, (img, params, _) = _single_edit(rng, category, o)
    return (*_encode_like(img, o.fmt), name, params)


def _same_pixels(rng: np.random.Generator, o: Original) -> tuple[bytes, str, str, dict]:
    name = str(rng.choice(["png_resave", "meta_strip", "tiff", "webp_lossless"]))
    if name == "png_resave":
        level = int(rng.integers(0, 4))  # higher levels take seconds on a large photo
        return _encode(o.img, "PNG", compress_level=level), "png", name, {"compress_level": level}
    if name == "meta_strip":
        if o.fmt == "JPEG":
            return _strip_jpeg_app_segments(o.data), "jpg", name, {}
        return _encode(o.img, "PNG", compress_level=1), "png", name, {}  # same pixels, no text chunk
    if name == "tiff":
        comp = str(rng.choice(["tiff_lzw", "tiff_adobe_deflate", "raw"]))
        return _encode(o.img, "TIFF", compression=None if comp == "raw" else comp), "tif", name, {"compression": comp}
    return _encode(o.img, "WEBP", lossless=True, quality=0, method=0), "webp", name, {}


def _single_edit(rng: np.random.Generator, category: str, o: Original) -> tuple[str, edits.Edited]:
    img, protect = o.img, o.protect
    if category == "resize":
        return "resize", edits.resize(rng, img)
    if category == "crop":
        return "crop", edits.crop(rng, img)
    if category == "grey":
        return "grey", edits.grey(rng, img)
    if category == "caption_watermark":
        if rng.random() < 0.8:
            return "caption_bar", edits.caption_bar(rng, img, protect)
        return "caption_text", edits.caption_text_overlay(rng, img, protect)
    if category == "stamp_mark":
        if rng.random() < 0.55:
            return "stamp", edits.stamp(rng, img, protect)
        return "handwriting", edits.handwriting(rng, img, protect)
    if category == "border_mat":
        out = edits.mat(rng, img)
        return str(out[1]["layout"]), out
    if category == "skew":
        out = edits.skew(rng, img)
        return f"skew_{out[1]['variant']}", out
    if category == "perspective":
        out = edits.perspective(rng, img)
        return f"perspective_{out[1]['variant']}", out
    raise ValueError(f"unknown category {category!r}")


def _combined(rng: np.random.Generator, o: Original) -> tuple[bytes, str, str, dict]:
    """Two to four edits in a random order, then JPEG at quality 40-80."""
    pool = list(COMBINABLE) + (["stamp"] if o.content in PAPER else [])
    steps = [str(s) for s in rng.choice(pool, int(rng.integers(2, 5)), replace=False)]
    img, protect, done = o.img, o.protect, []
    for step in steps:
        if step == "mat":
            img, params, move = edits.mat(rng, img)
        elif step == "caption_bar":
            img, params, move = edits.caption_bar(rng, img, protect)
        elif step == "stamp":
            img, params, move = edits.stamp(rng, img, protect)
        elif step == "skew":
            img, params, move = edits.skew(rng, img)
        else:
            img, params, move = getattr(edits, step)(rng, img)
        protect = move(protect) if protect else None
        done.append({"edit": step, **params})
    q = int(rng.integers(40, 81))
    return _encode(img, "JPEG", quality=q), "jpg", "+".join([*steps, "jpeg"]), {"steps": done, "quality": q}


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value


# --- writing ---------------------------------------------------------------------------------------


class Writer:
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
        source: str | None = None,
        protect: Box | None = None,
        params: dict | None = None,
    ) -> None:
        data = encode_original(img, fmt, group_id)
        labels = {"content": content, "family": family, "family_kind": family_kind, "source": source}
        ext = "jpg" if fmt == "JPEG" else "png"
        self._write(f"{group_id}__original.{ext}", group_id, "original", "original", data, labels, params)
        original = Original(img, data, fmt, content, protect)
        for k, category in enumerate(pick_categories(self.rng, content, n_copies)):
            copy, ext, transform, p = make_copy(self.rng, category, original)
            self._write(f"{group_id}__{k:02d}_{transform}.{ext}", group_id, transform, category, copy, labels, p)

    def _write(self, name, group_id, transform, category, data, labels, params) -> None:  # noqa: ANN001
        path = self.out_dir / name
        path.write_bytes(data)
        kind = KIND_OF_CATEGORY.get(category, "near")
        text = json.dumps(_jsonable(params), ensure_ascii=False) if params else None
        self.records.append(Record(str(path), group_id, transform, kind, category=category, params=text, **labels))


def _original_unit(w: Writer, i: int, copies: int, item: dict | None) -> None:
    rng = w.rng
    n = 0 if rng.random() < 0.15 else copies  # some originals have no duplicate
    if item:
        img, params = _real_picture(rng, item)
        fmt = "JPEG" if item["file"].endswith(".jpg") or item["content"] == "photo" else "PNG"
        w.add(f"o{i:04d}", img, fmt, item["content"], n, source=item["source"], params=params)
        return
    content = str(rng.choice(["photo", "photo", "photo", "artwork", "document", "form"]))
    if content == "photo":
        img, fmt = make_photo(rng, photo_size(rng)), "JPEG"
    elif content == "artwork":
        img, fmt = make_artwork(rng, photo_size(rng, 0.1)), "PNG"
    elif content == "document":
        page = (
            make_letter(rng)
            if rng.random() < 0.3
            else make_document_page(rng, random_layout(rng), int(rng.integers(1, 300)))
        )
        img, fmt = page, "JPEG" if rng.random() < 0.2 else "PNG"
    else:
        t = random_form_template(rng)
        img, fmt = make_form(t, random_form_values(rng, t)), "JPEG" if rng.random() < 0.2 else "PNG"
    w.add(f"o{i:04d}", img, fmt, content, n)


def _real_picture(rng: np.random.Generator, item: dict) -> tuple[Image.Image, dict | None]:
    """A cached real picture; photographs and artwork come at a long side of 900-2,400 px, as collections do."""
    img = Image.open(item["abs_file"])
    img = img.convert("L" if img.mode == "L" else "RGB")
    side = int(rng.uniform(900, 2400))
    if item["content"] == "document" or max(img.size) <= side:
        return img, None
    f = side / max(img.size)
    params = {"scaled_from": list(img.size)}
    return img.resize((round(img.width * f), round(img.height * f)), Image.LANCZOS), params


def _family_unit(w: Writer, kind: str, f: int, payload: object) -> None:
    rng = w.rng
    few = lambda: int(rng.integers(2, 4))  # noqa: E731 - look-alike members get a few copies
    if kind == "burst":
        families.burst(w, f"burst{f:02d}", int(rng.integers(3, 6)), few)
    elif kind == "crop":
        families.crops(w, f"crop{f:02d}", int(rng.integers(3, 5)), few)
    elif kind == "doc_page":
        families.doc_pages(w, f"doc{f:02d}", few, payload)  # type: ignore[arg-type]
    elif kind == "form":
        families.forms(w, f"form{f:02d}", few)
    elif kind == "form_field":
        families.form_field(w, f"field{f:02d}", families.one_region_copies(rng))
    elif kind == "date_stamp":
        families.date_stamp(w, f"dstamp{f:02d}", families.one_region_copies(rng), payload)  # type: ignore[arg-type]
    elif kind == "note":
        families.note(w, f"note{f:02d}", families.one_region_copies(rng), payload)  # type: ignore[arg-type]
    elif kind == "real_burst":
        name, items = payload  # type: ignore[misc]
        families.real_burst(w, f"real_{name}", items, lambda: int(rng.integers(1, 4)))


def _run_unit(job: tuple) -> list[Record]:
    """One original (with copies) or one look-alike family; own seed so workers agree."""
    kind, index, copies, seed, out, payload = job
    w = Writer(out, np.random.default_rng(seed))
    if kind == "original":
        _original_unit(w, index, copies, payload)
    elif kind == "shipped":
        _add_shipped_images(w)
    else:
        _family_unit(w, kind, index, payload)
    return w.records


def _add_shipped_images(w: Writer) -> None:
    """Real images that installed Python packages ship, when present, as extra originals."""
    import sys

    for path in sorted((Path(sys.prefix) / "images").glob("*.png"))[:1]:
        img = Image.open(path).convert("RGB")
        w.add("shipped_imagehash", img, "PNG", "artwork", 5, source=f"python-package:{path.name}")


# --- planning ----------------------------------------------------------------------------------------


def _as_payload(item: Item, folder: Path) -> dict:
    return {**asdict(item), "abs_file": str(folder / item.file), "source": item.source}


def _plan(
    rng: np.random.Generator, items: list[Item] | None, folder: Path, n_originals: int, n_families: int
) -> list[tuple[str, int, object]]:
    """Jobs (kind, index, payload); each real picture is used at most once per set."""
    family_kinds = ("burst", "crop", "doc_page", "form", *families.ONE_REGION_KINDS)
    jobs: list[tuple[str, int, object]] = [(k, f, None) for f in range(n_families) for k in family_kinds]
    originals: list[tuple[str, int, object]] = [("original", i, None) for i in range(n_originals)]
    if items:
        pictures = [i for i in items if i.content != "document" and not i.family]
        pages = [i for i in items if i.content == "document"]
        rng.shuffle(pictures)  # type: ignore[arg-type]
        rng.shuffle(pages)  # type: ignore[arg-type]
        used: set[str] = set()
        runs: dict[str, list[Item]] = defaultdict(list)
        for page in sorted(pages, key=lambda p: (p.run or "", p.run_index or 0)):
            runs[page.run or page.id].append(page)
        run_list = [r for r in runs.values() if len(r) >= 3]
        run_list = [run_list[int(k)] for k in rng.permutation(len(run_list))]
        for j, (kind, f, _) in enumerate(jobs):
            if kind == "doc_page" and rng.random() < 0.5:
                run = next((r for r in run_list if not used & {p.id for p in r}), None)
                if run:
                    used.update(p.id for p in run)
                    jobs[j] = (kind, f, [_as_payload(p, folder) for p in run])
            elif kind in ("date_stamp", "note") and rng.random() < 0.4:
                page = next((p for p in pages if p.id not in used), None)
                if page:
                    used.add(page.id)
                    jobs[j] = (kind, f, _as_payload(page, folder))
        real = int(round(REAL_SHARE * n_originals))
        singles = pictures[: int(real * 0.6)]
        singles += [p for p in pages if p.id not in used][: real - len(singles)]
        slots = rng.choice(n_originals, min(len(singles), n_originals), replace=False)
        for slot, item in zip(slots, singles, strict=False):
            originals[int(slot)] = ("original", int(slot), _as_payload(item, folder))
        if n_families:
            grouped: dict[str, list[Item]] = defaultdict(list)
            for i in items:
                if i.family:
                    grouped[i.family].append(i)
            for k, (name, members) in enumerate(sorted(grouped.items())):
                jobs.append(("real_burst", k, (name, [_as_payload(m, folder) for m in members])))
    return jobs + originals + [("shipped", 0, None)]


def make_dataset(
    out_dir: str | Path,
    n_originals: int = 150,
    seed: int = 7,
    copies_per_original: int = 9,
    n_families: int = 10,
    workers: int | None = None,
    material: str | Path | None = DEFAULT_DIR,
) -> list[Record]:
    """Write a labelled set to out_dir and return its records (about 20 files per original with 10 families)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(material) if material else None
    items = load_items(folder) if folder else None
    if items is None:
        where = folder or "(none given)"
        print(f"no real material at {where}: procedural pictures only (python -m bench.real_material builds it)")
    root = np.random.SeedSequence(seed)
    plan_seed, unit_seed = root.spawn(2)
    plan = _plan(np.random.default_rng(plan_seed), items, folder or Path("."), n_originals, n_families)
    seeds = unit_seed.spawn(len(plan))
    jobs = [(k, i, copies_per_original, s, out, p) for (k, i, p), s in zip(plan, seeds, strict=True)]
    with multiprocessing.Pool(workers or os.cpu_count() or 1) as pool:
        records = [r for unit in pool.imap(_run_unit, jobs) for r in unit]
    (out / "labels.json").write_text(json.dumps([asdict(r) for r in records], indent=0, ensure_ascii=False))
    return records


def load_dataset(out_dir: str | Path) -> list[Record]:
    return [Record(**r) for r in json.loads((Path(out_dir) / "labels.json").read_text())]


# --- summary ---------------------------------------------------------------------------------------


def lookalike_pairs(records: list[Record], originals_only: bool = False) -> Counter:
    """Listed look-alike pairs (members of one family in different groups) per family_kind."""
    by_family: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.family and (r.transform == "original" or not originals_only):
            by_family[r.family].append(r)
    pairs: Counter = Counter()
    for members in by_family.values():
        for a, b in itertools.combinations(members, 2):
            if a.group_id != b.group_id:
                pairs[a.family_kind] += 1
    return pairs


def summary(records: list[Record]) -> str:
    copies = [r for r in records if r.transform != "original"]
    lines = [f"{len(records)} files, {sum(r.transform == 'original' for r in records)} originals"]
    lines.append(
        "copies per category: " + ", ".join(f"{c} {n}" for c, n in sorted(Counter(r.category for r in copies).items()))
    )
    lines.append(
        "files per content: " + ", ".join(f"{c} {n}" for c, n in sorted(Counter(r.content for r in records).items()))
    )
    real = [r for r in records if r.source]
    lines.append(f"real pictures: {sum(r.transform == 'original' for r in real)} originals, {len(real)} files")
    fams = {r.family: r.family_kind for r in records if r.family}
    members = Counter(r.family_kind for r in records if r.family and r.transform == "original")
    all_pairs, orig_pairs = lookalike_pairs(records), lookalike_pairs(records, originals_only=True)
    lines.append("look-alike families (kind: families, members, pairs between originals, pairs between files):")
    for kind in sorted(members):
        n_fam = sum(1 for k in fams.values() if k == kind)
        lines.append(f"  {kind:<11} {n_fam:3d} {members[kind]:5d} {orig_pairs[kind]:6d} {all_pairs[kind]:7d}")
    one = sum(orig_pairs[k] for k in families.ONE_REGION_KINDS)
    lines.append(
        f"one-region look-alike pairs between originals: {one}" + ("" if one >= 2000 else "  (fewer than 2,000)")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--originals", type=int, default=150)
    parser.add_argument("--families", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--material", default=str(DEFAULT_DIR), help="real-material cache (bench.real_material)")
    args = parser.parse_args()
    start = time.perf_counter()
    records = make_dataset(
        args.out_dir, n_originals=args.originals, seed=args.seed, n_families=args.families, material=args.material
    )
    print(f"{len(records)} files in {time.perf_counter() - start:.1f} s -> {args.out_dir}")
    print(summary(records))


if __name__ == "__main__":
    main()
