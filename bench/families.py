"""Look-alike families: different pictures that must never be grouped, each member its own group.

Besides bursts, overlapping crops, adjacent pages and forms filled differently, three kinds differ in ONE
compact region only: forms from one template differing in one field, one letter with different date stamps,
one page with different handwritten notes. Each member's region is passed on as `protect`, so the edits its
copies carry never cover the one thing that tells it from its siblings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image

from bench import edits
from bench.documents import make_letter, word
from bench.edits import Box
from tests.pictures import (
    GIVEN,
    NAMES,
    FormTemplate,
    background,
    make_document_page,
    make_form,
    make_photo,
    photo_size,
    random_form_template,
    random_form_values,
    random_layout,
    random_shapes,
    render_shapes,
    to_image,
    vary_form_values,
)


class Writer(Protocol):
    """What a family needs of bench.dataset's writer: its random generator and a way to add an original."""

    rng: np.random.Generator

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
    ) -> None: ...


Copies = Callable[[], int]
ONE_REGION_KINDS = ("form_field", "date_stamp", "note")


def one_region_copies(rng: np.random.Generator) -> Copies:
    return lambda: int(rng.choice([0, 1, 2], p=[0.35, 0.4, 0.25]))


def _members(rng: np.random.Generator) -> int:
    return int(rng.integers(12, 15))


# --- today's families ----------------------------------------------------------------------------


def burst(w: Writer, fam: str, shots: int, copies: Copies) -> None:
    """Successive shots: the camera drifts 2-6 % (never twice to the same place), objects move, exposure changes."""
    rng = w.rng
    fw, fh = photo_size(rng, large_share=0.05)
    pad = 0.1
    sw, sh = int(fw * (1 + 2 * pad)), int(fh * (1 + 2 * pad))
    shapes = random_shapes(rng, sw, sh, int(rng.integers(5, 14)))
    base = background(rng, sw, sh)
    offsets: list[tuple[float, float]] = []
    for _ in range(200):
        if len(offsets) == shots:
            break
        ang, shift = rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.06)
        off = (np.cos(ang) * shift, np.sin(ang) * shift)
        if all(np.hypot(off[0] - o[0], off[1] - o[1]) >= 0.015 for o in offsets):
            offsets.append(off)
    for k, (ox, oy) in enumerate(offsets):
        x0, y0 = int(pad * fw + ox * fw), int(pad * fh + oy * fh)
        movers = rng.choice(len(shapes), int(rng.integers(1, 3)), replace=False)
        moved = {int(i): tuple(rng.uniform(-0.04, 0.04, 2) * [fw, fh]) for i in movers}
        arr = render_shapes(base, shapes, moved)[y0 : y0 + fh, x0 : x0 + fw]
        arr = arr * rng.uniform(0.85, 1.15) + rng.normal(0, 2.5, arr.shape[:2])[..., None]
        w.add(f"{fam}s{k}", to_image(arr, 1.0), "JPEG", "photo", copies(), fam, "burst")


def crops(w: Writer, fam: str, n: int, copies: Copies) -> None:
    """Crops of one larger photo, each pair overlapping 55-82 % of the smaller crop."""
    rng = w.rng
    big = make_photo(rng, (int(rng.integers(1400, 2600)), int(rng.integers(1100, 1800))))
    bw, bh = big.size
    boxes: list[tuple[int, int, int, int]] = []
    for _ in range(200):
        if len(boxes) == n:
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
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return iw * ih / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def doc_pages(w: Writer, fam: str, copies: Copies, run: list[dict] | None = None) -> None:
    """Adjacent pages of one document: a real run of rendered pages, or pages sharing one drawn layout."""
    rng = w.rng
    if run:
        for p, item in enumerate(run):
            img = Image.open(item["abs_file"]).convert("RGB")
            w.add(f"{fam}p{p}", img, "PNG", "document", copies(), fam, "doc_page", source=item["source"])
        return
    layout = random_layout(rng)
    for p in range(int(rng.integers(3, 6))):
        w.add(f"{fam}p{p}", make_document_page(rng, layout, p + 1), "PNG", "document", copies(), fam, "doc_page")


def forms(w: Writer, fam: str, copies: Copies) -> None:
    """Forms of one template with one to three fields or ticks changed; never two with the same values."""
    rng = w.rng
    template = random_form_template(rng)
    base = random_form_values(rng, template)
    seen: list[dict[str, object]] = []
    for _ in range(int(rng.integers(4, 8))):
        values = vary_form_values(rng, template, base)
        for _ in range(20):
            if values not in seen:
                break
            values = vary_form_values(rng, template, base)
        else:
            continue
        seen.append(values)
        k = len(seen) - 1
        w.add(f"{fam}f{k}", make_form(template, values), "PNG", "form", copies(), fam, "form")


# --- one compact region ------------------------------------------------------------------------


def _field_values(rng: np.random.Generator, label: str, base: str, n: int) -> list[str]:
    """n distinct values for one field: neighbours (the next number, the next day) or unrelated ones."""
    near = rng.random() < 0.5
    out: list[str] = []
    if label == "Date":
        day = dt.date(int(base[-4:]), int(base[3:5]), int(base[:2]))
        step = [dt.timedelta(days=int(v)) for v in rng.choice(np.arange(1, 4000), n * 3, replace=False)]
        days = [day + dt.timedelta(days=k) for k in range(n)] if near else [day + s for s in step]
        out = [edits.format_date(d, "dmy") for d in days]
    elif label == "Name":
        surname = str(rng.choice(NAMES))
        pool = [f"{surname} {g}" for g in GIVEN] if near else [f"{s} {g}" for s in NAMES for g in GIVEN]
        out = [str(v) for v in rng.choice(pool, min(n, len(pool)), replace=False)]
    else:
        prefix, number = base[0], int(base[1:])
        numbers = [number + k for k in range(n)] if near else rng.choice(np.arange(100000, 9999999), n, replace=False)
        out = [f"{prefix}{int(v)}" for v in numbers]
    return list(dict.fromkeys(out))[:n]


def _field_box(template: FormTemplate, label: str, values: list[str]) -> Box:
    """Where make_form writes the value of `label` (the union over all the values drawn)."""
    s = template.size[0] / 850
    y = 180 * s + template.fields.index(label) * 70 * s
    f = edits.font(template.font_px * 1.2 * s)
    right = max(f.getlength(v) for v in values)
    return (300 * s, y - 10 * s, 310 * s + right + 12 * s, y + 34 * s)


def form_field(w: Writer, fam: str, copies: Copies) -> None:
    """Forms from one template, filled alike except one field (a name, a date, a number)."""
    rng = w.rng
    template = random_form_template(rng)
    base = random_form_values(rng, template)
    label = str(rng.choice(list(template.fields)))
    values = _field_values(rng, label, str(base[label]), _members(rng))
    box = _field_box(template, label, values)
    for k, value in enumerate(values):
        img = make_form(template, {**base, label: value})
        params = {"region": _rounded(box), "field": label, "value": value}
        w.add(f"{fam}m{k:02d}", img, "PNG", "form", copies(), fam, "form_field", protect=box, params=params)


def _base_page(rng: np.random.Generator, page: dict | None) -> tuple[Image.Image, str | None]:
    if page:
        return Image.open(page["abs_file"]).convert("RGB"), page["source"]
    if rng.random() < 0.7:
        return make_letter(rng), None
    return make_document_page(rng, random_layout(rng), int(rng.integers(1, 40))), None


def _distinct_dates(rng: np.random.Generator, n: int) -> list[str]:
    start = dt.date(1960, 1, 1) + dt.timedelta(days=int(rng.integers(0, 23000)))
    if rng.random() < 0.5:
        days = [start + dt.timedelta(days=k) for k in range(n)]
    else:
        days = [start + dt.timedelta(days=int(v)) for v in np.sort(rng.choice(np.arange(1, 3000), n, replace=False))]
    return [edits.format_date(d, "stamp") for d in days]


def date_stamp(w: Writer, fam: str, copies: Copies, page: dict | None = None) -> None:
    """One letter stamped on different days: the same stamp in about the same place, only the date differs."""
    rng = w.rng
    base, source = _base_page(rng, page)
    pw, ph = base.size
    design = edits.random_stamp_design(rng, shape=str(rng.choice(["rect", "round", "date"])))
    cx, cy = rng.uniform(0.3, 0.7) * pw, rng.uniform(0.2, 0.8) * ph
    for k, date_text in enumerate(_distinct_dates(rng, _members(rng))):
        centre = (cx + rng.uniform(-0.015, 0.015) * pw, cy + rng.uniform(-0.015, 0.015) * ph)
        img, box = edits.render_stamp(rng, base, design, date_text, centre, design.angle + rng.uniform(-1.5, 1.5))
        params = {"region": _rounded(box), "date": date_text, "stamp": design.label, "shape": design.shape}
        w.add(f"{fam}m{k:02d}", img, "PNG", "document", copies(), fam, "date_stamp", source, protect=box, params=params)


def _distinct_notes(rng: np.random.Generator, n: int) -> list[str]:
    notes = [str(v) for v in rng.permutation(edits.NOTES)]
    while len(notes) < n * 2:
        kind = int(rng.integers(4))
        if kind == 0:
            notes.append(f"File {rng.integers(1, 40)}/{rng.integers(60, 99)}")
        elif kind == 1:
            notes.append(f"Seen {rng.integers(1, 29)}/{rng.integers(1, 13)}")
        elif kind == 2:
            notes.append(f"{word(rng).title()} to reply")
        else:
            notes.append(f"cc {rng.choice(NAMES)}")
    return list(dict.fromkeys(notes))[:n]


def note(w: Writer, fam: str, copies: Copies, page: dict | None = None) -> None:
    """One page with a different handwritten note in about the same place on each copy filed."""
    rng = w.rng
    base, source = _base_page(rng, page)
    pw, ph = base.size
    ink = str(rng.choice(list(edits.INKS)))
    px = pw * rng.uniform(0.028, 0.04)
    x, y = rng.uniform(0.15, 0.45) * pw, rng.uniform(0.15, 0.8) * ph
    for k, text in enumerate(_distinct_notes(rng, _members(rng))):
        mask = edits.hand_text(rng, text, px).rotate(rng.uniform(-6, 6), Image.BICUBIC, expand=True)
        at = (x + rng.uniform(-0.01, 0.01) * pw, y + rng.uniform(-0.01, 0.01) * ph)
        img, box = edits.place_mask(rng, base, mask, edits.INKS[ink], 0.9, at=at)
        params = {"region": _rounded(box), "note": text, "ink": ink}
        w.add(f"{fam}m{k:02d}", img, "PNG", "document", copies(), fam, "note", source, protect=box, params=params)


def real_burst(w: Writer, fam: str, items: list[dict], copies: Copies) -> None:
    """Real look-alikes shipped together: stereo pairs, successive frames, calibration shots."""
    for k, item in enumerate(items):
        img = Image.open(item["abs_file"])
        img = img.convert("L" if img.mode == "L" else "RGB")
        fmt = "JPEG" if item["file"].endswith(".jpg") else "PNG"
        w.add(f"{fam}s{k:02d}", img, fmt, "photo", copies(), fam, "burst", source=item["source"])


def _rounded(box: Box | None) -> list[int] | None:
    return None if box is None else [int(round(v)) for v in box]
