"""Edits a copy of a picture may carry: caption bars, stamps, handwriting, mats, skew, perspective, rescans.

Every edit takes a numpy generator and a PIL image and returns the edited image, the parameters drawn (for
the labels) and, for edits that move pixels, a map from boxes in the input to boxes in the output, so a later
overlay can keep clear of a region that must stay visible (the one field that tells two forms apart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.pictures import GIVEN, NAMES

Box = tuple[float, float, float, float]
BoxMap = Callable[[Box], Box]
Colour = tuple[int, int, int]
Edited = tuple[Image.Image, dict[str, object], BoxMap]

ORGS = (
    "HK Museum",
    "Records Office",
    "Public Library",
    "Heritage Trust",
    "City Archive",
    "Film Archive",
    "Land Registry",
    "University Library",
    "Harbour Board",
)
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
NOTES = (
    "Noted",
    "Seen, thanks",
    "File 3/21",
    "Please reply",
    "cc Director",
    "Copy to Registry",
    "Urgent!",
    "Pls discuss",
    "OK to proceed",
    "Return to sender",
    "Checked",
    "Ask Mr Lee",
    "See attached",
    "Approved in principle",
    "Bring up 1/7",
    "Hold",
    "Dup? check file",
    "For info",
    "Reply sent",
    "Missing p.2",
)
INKS: dict[str, Colour] = {
    "blue": (25, 45, 150),
    "black": (25, 25, 30),
    "red": (175, 25, 25),
    "pencil": (95, 95, 100),
}
STAMP_INKS: dict[str, Colour] = {"red": (190, 30, 40), "blue": (30, 55, 170), "black": (30, 30, 35)}


def identity(box: Box) -> Box:
    return box


@lru_cache(maxsize=256)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, int(size)))


def _overlaps(a: Box, b: Box | None, pad: float = 0.0) -> bool:
    if b is None:
        return False
    return a[0] < b[2] + pad and b[0] - pad < a[2] and a[1] < b[3] + pad and b[1] - pad < a[3]


def random_colour(rng: np.random.Generator) -> Colour:
    return tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[return-value]


def _luma(c: Colour) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _smooth(rng: np.random.Generator, w: int, h: int, cell: int) -> np.ndarray:
    """Low-frequency noise in 0..1 (random coarse grid, upscaled)."""
    gw, gh = max(2, w // max(1, cell) + 2), max(2, h // max(1, cell) + 2)
    small = Image.fromarray((rng.random((gh, gw)) * 255).astype(np.uint8))
    return np.asarray(small.resize((max(1, w), max(1, h)), Image.BICUBIC), dtype=np.float32) / 255.0


def _ramp(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A 0..1 linear ramp at a random angle, computed small and scaled up (fast on large pictures)."""
    sw, sh = max(2, w // 8), max(2, h // 8)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = xx * np.cos(angle) + yy * np.sin(angle)
    t = (t - t.min()) / max(1e-6, float(np.ptp(t)))
    small = Image.fromarray((t * 255).astype(np.uint8))
    return np.asarray(small.resize((w, h), Image.BILINEAR), np.float32) / 255.0


def _noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    return rng.standard_normal((h, w), dtype=np.float32) * np.float32(sigma)


def _composite(img: Image.Image, overlay: Image.Image) -> Image.Image:
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def _clip(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


# --- text -------------------------------------------------------------------------------------


def random_date(rng: np.random.Generator, style: str | None = None) -> str:
    day = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 27000)))
    return format_date(day, style or str(rng.choice(["dmy", "iso", "long", "stamp"])))


def format_date(day: dt.date, style: str) -> str:
    if style == "iso":
        return day.isoformat()
    if style == "long":
        return f"{day.day} {MONTHS[day.month - 1].title()} {day.year}"
    if style == "stamp":
        return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def caption_text(rng: np.random.Generator) -> str:
    org, year = str(rng.choice(ORGS)), int(rng.integers(1950, 2026))
    name = f"{rng.choice(GIVEN)} {rng.choice(NAMES)}"
    options = (
        f"Photo: {name} / {org}",
        f"© {org} {year}",
        "Internal use only",
        f"Courtesy of the {org}",
        f"Scanned {random_date(rng)}",
        f"{org} - Acc. No. {rng.integers(1000, 99999)}/{rng.integers(10, 99)}",
        "Not for publication",
        "Reproduced by permission",
        "Copy for reference only",
        f"© {year} {name}",
        f"{random_date(rng)}  {org}",
        "INTERNAL USE ONLY - DO NOT CIRCULATE",
    )
    return str(options[int(rng.integers(len(options)))])


def _fit_font(text: str, max_w: float, max_h: float):
    size = max(6, int(max_h))
    while size > 6 and font(size).getlength(text) > max_w:
        size = max(6, int(size * 0.9))
    return font(size)


# --- caption bars ---------------------------------------------------------------------------------


def caption_bar(rng: np.random.Generator, img: Image.Image, protect: Box | None = None) -> Edited:
    """A bar 10-60 % of the width and up to 15 % of the height in a corner or along an edge, with text."""
    img = img.convert("RGB")
    w, h = img.size
    vertical = rng.random() < 0.15
    for _ in range(80):
        along, across = rng.uniform(0.10, 0.60), rng.uniform(0.03, 0.15)
        bw, bh = (across * w, along * h) if vertical else (along * w, across * h)
        bw, bh = max(bw, 24.0), max(bh, 12.0)
        anchors = ["tl", "tr", "bl", "br", "left", "right"] + ([] if vertical else ["top", "bottom"])
        anchor = str(rng.choice(anchors))
        inset = rng.uniform(0.005, 0.03) * min(w, h) if rng.random() < 0.4 else 0.0
        x = {"l": inset, "r": w - bw - inset}.get(anchor[-1] if len(anchor) == 2 else anchor[0], 0.0)
        y = {"t": inset, "b": h - bh - inset}.get(anchor[0], 0.0)
        if anchor in ("top", "bottom"):
            x = rng.uniform(0, w - bw)
            y = inset if anchor == "top" else h - bh - inset
        elif anchor in ("left", "right"):
            x = inset if anchor == "left" else w - bw - inset
            y = rng.uniform(0, max(0.0, h - bh))
        box = (x, y, x + bw, y + bh)
        if not _overlaps(box, protect, pad=4):
            break
    else:
        return img, {"skipped": "no room clear of the protected region"}, identity
    colour = _bar_colour(rng)
    alpha = 1.0 if rng.random() < 0.4 else float(rng.uniform(0.35, 1.0))
    text = caption_text(rng)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle(box, fill=(*colour, int(alpha * 255)))
    ink = _text_colour(rng, colour)
    text_alpha = int(255 * max(0.8, min(1.0, alpha + 0.3)))
    long_side, short_side = (bh, bw) if vertical else (bw, bh)
    f = _fit_font(text, long_side * 0.92, short_side * rng.uniform(0.5, 0.75))
    tile = Image.new("RGBA", (int(long_side), int(short_side)), (0, 0, 0, 0))
    tdraw = ImageDraw.Draw(tile)
    tw = f.getlength(text)
    align = str(rng.choice(["left", "centre", "right"]))
    tx = {"left": short_side * 0.2, "centre": (long_side - tw) / 2, "right": long_side - tw - short_side * 0.2}[align]
    tdraw.text((max(2.0, tx), short_side / 2), text, font=f, fill=(*ink, text_alpha), anchor="lm")
    if vertical:
        tile = tile.rotate(90 if rng.random() < 0.5 else 270, expand=True)
    overlay.alpha_composite(tile, (int(box[0]), int(box[1])))
    params = {
        "anchor": anchor,
        "vertical": vertical,
        "width": round(bw / w, 3),
        "height": round(bh / h, 3),
        "alpha": round(alpha, 2),
        "colour": colour,
        "text": text,
    }
    return _composite(img, overlay), params, identity


def _bar_colour(rng: np.random.Generator) -> Colour:
    named = [(0, 0, 0), (255, 255, 255), (128, 128, 128), (20, 30, 80), (110, 20, 30), (240, 232, 210)]
    return random_colour(rng) if rng.random() < 0.35 else tuple(int(v) for v in named[int(rng.integers(len(named)))])


def _text_colour(rng: np.random.Generator, bar: Colour) -> Colour:
    if rng.random() < 0.25:
        for _ in range(20):
            c = random_colour(rng)
            if abs(_luma(c) - _luma(bar)) > 110:
                return c
    return (250, 250, 250) if _luma(bar) < 128 else (15, 15, 15)


def caption_text_overlay(rng: np.random.Generator, img: Image.Image, protect: Box | None = None) -> Edited:
    """Small credit text straight on the picture (no bar), semi-transparent, near a corner."""
    img = img.convert("RGB")
    w, h = img.size
    text = caption_text(rng)
    f = font(max(w, h) * rng.uniform(0.018, 0.035))
    tw, th = f.getbbox(text)[2:]
    pad = max(w, h) * 0.015
    for _ in range(40):
        x = pad if rng.random() < 0.5 else w - tw - pad
        y = pad if rng.random() < 0.3 else h - th - pad
        if not _overlaps((x, y, x + tw, y + th), protect, pad=4):
            break
    else:
        return img, {"skipped": "no room clear of the protected region"}, identity
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    light = rng.random() < 0.6
    fill = (255, 255, 255, int(rng.uniform(150, 240))) if light else (0, 0, 0, int(rng.uniform(150, 240)))
    stroke = (0, 0, 0, 140) if light else (255, 255, 255, 140)
    ImageDraw.Draw(overlay).text((x, y), text, font=f, fill=fill, stroke_width=1, stroke_fill=stroke)
    return _composite(img, overlay), {"text": text, "light": light}, identity


# --- stamps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StampDesign:
    """The look of one rubber stamp; stamping it twice gives the same design with new ink and a new date."""

    shape: str  # rect / round / date
    ink: str
    label: str
    org: str
    size: float  # stamp width as a share of the page width
    angle: float
    alpha: float
    double: bool


def random_stamp_design(rng: np.random.Generator, shape: str | None = None) -> StampDesign:
    shape = shape or str(rng.choice(["rect", "rect", "round", "date"]))
    label = str(rng.choice(["RECEIVED", "RECEIVED", "APPROVED", "APPROVED", "FILED", "ENTERED", "PAID", "CHECKED"]))
    size = rng.uniform(0.16, 0.30) if shape == "rect" else rng.uniform(0.13, 0.22)
    return StampDesign(
        shape=shape,
        ink=str(rng.choice(list(STAMP_INKS))),
        label=label,
        org=str(rng.choice(ORGS)).upper(),
        size=float(size),
        angle=float(rng.uniform(-6, 6)),
        alpha=float(rng.uniform(0.55, 0.95)),
        double=bool(rng.random() < 0.5),
    )


def stamp_mask(rng: np.random.Generator, design: StampDesign, page_w: int, date_text: str) -> Image.Image:
    """The inked area of a stamp (L, 255 = full ink), drawn upright at its size on a page `page_w` wide."""
    sw = max(60, int(design.size * page_w))
    if design.shape == "round":
        mask = _round_stamp(design, sw, date_text)
    else:
        mask = _rect_stamp(design, sw, date_text)
    arr = np.asarray(mask, dtype=np.float32)
    ink = 0.55 + 0.45 * _smooth(rng, mask.width, mask.height, max(4, sw // 10))
    speckle = rng.random(arr.shape) > rng.uniform(0.02, 0.12)
    return Image.fromarray((arr * ink * speckle).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))


def _rect_stamp(design: StampDesign, sw: int, date_text: str) -> Image.Image:
    sh = int(sw * (0.42 if design.shape == "date" else 0.56))
    mask = Image.new("L", (sw, sh), 0)
    draw = ImageDraw.Draw(mask)
    lw = max(2, sw // 45)
    draw.rectangle((lw, lw, sw - lw, sh - lw), outline=255, width=lw)
    if design.double:
        g = lw * 3
        draw.rectangle((g, g, sw - g, sh - g), outline=255, width=max(1, lw // 2))
    if design.shape == "date":
        f = _fit_font(date_text, sw * 0.8, sh * 0.45)
        draw.text((sw / 2, sh * 0.55), date_text, font=f, fill=255, anchor="mm", stroke_width=1, stroke_fill=255)
        small = _fit_font(design.org, sw * 0.8, sh * 0.16)
        draw.text((sw / 2, sh * 0.2), design.org, font=small, fill=255, anchor="mm")
        return mask
    big = _fit_font(design.label, sw * 0.82, sh * 0.3)
    draw.text((sw / 2, sh * 0.3), design.label, font=big, fill=255, anchor="mm", stroke_width=1, stroke_fill=255)
    mid = _fit_font(date_text, sw * 0.7, sh * 0.2)
    draw.text((sw / 2, sh * 0.58), date_text, font=mid, fill=255, anchor="mm")
    small = _fit_font(design.org, sw * 0.8, sh * 0.13)
    draw.text((sw / 2, sh * 0.8), design.org, font=small, fill=255, anchor="mm")
    return mask


def _round_stamp(design: StampDesign, sw: int, date_text: str) -> Image.Image:
    mask = Image.new("L", (sw, sw), 0)
    draw = ImageDraw.Draw(mask)
    lw = max(2, sw // 40)
    c, r_out = sw / 2, sw / 2 - lw
    draw.ellipse((c - r_out, c - r_out, c + r_out, c + r_out), outline=255, width=lw)
    r_in = r_out * 0.68
    draw.ellipse((c - r_in, c - r_in, c + r_in, c + r_in), outline=255, width=max(1, lw // 2 if design.double else lw))
    ring = (r_out + r_in) / 2
    size = (r_out - r_in) * 0.62
    text = f"* {design.org} *"
    widths = [font(size).getlength(ch) * 1.08 for ch in text]
    if sum(widths) / ring > 2 * np.pi * 0.9:
        size *= 2 * np.pi * 0.9 / (sum(widths) / ring)
        widths = [font(size).getlength(ch) * 1.08 for ch in text]
    f = font(size)
    along = -sum(widths) / 2
    for ch, cw in zip(text, widths, strict=True):
        theta = np.degrees((along + cw / 2) / ring)
        along += cw
        tile = Image.new("L", (f.size * 2, f.size * 2), 0)
        ImageDraw.Draw(tile).text((f.size, f.size), ch, font=f, fill=255, anchor="mm")
        tile = tile.rotate(-theta, Image.BICUBIC)
        rad = np.radians(theta)
        x, y = c + ring * np.sin(rad) - f.size, c - ring * np.cos(rad) - f.size
        mask.paste(255, (int(x), int(y)), tile)
    big = _fit_font(design.label, r_in * 1.7, r_in * 0.42)
    draw.text((c, c - r_in * 0.18), design.label, font=big, fill=255, anchor="mm", stroke_width=1, stroke_fill=255)
    mid = _fit_font(date_text, r_in * 1.5, r_in * 0.3)
    draw.text((c, c + r_in * 0.35), date_text, font=mid, fill=255, anchor="mm")
    return mask


def render_stamp(
    rng: np.random.Generator,
    img: Image.Image,
    design: StampDesign,
    date_text: str,
    centre: tuple[float, float],
    angle: float | None = None,
) -> tuple[Image.Image, Box]:
    """Press the stamp onto img with its centre at `centre` (pixels); returns the image and the stamp's box."""
    img = img.convert("RGB")
    mask = stamp_mask(rng, design, img.width, date_text)
    mask = mask.rotate(design.angle if angle is None else angle, Image.BICUBIC, expand=True)
    x, y = int(centre[0] - mask.width / 2), int(centre[1] - mask.height / 2)
    alpha = mask.point(lambda v: int(v * design.alpha))
    layer = Image.new("RGBA", mask.size, (*STAMP_INKS[design.ink], 0))
    layer.putalpha(alpha)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    overlay.alpha_composite(layer, (max(0, x), max(0, y)), (max(0, -x), max(0, -y)))
    return _composite(img, overlay), (x, y, x + mask.width, y + mask.height)


def stamp(rng: np.random.Generator, img: Image.Image, protect: Box | None = None) -> Edited:
    """A RECEIVED / APPROVED / date stamp, rectangular or round, anywhere on the page, a few degrees off."""
    w, h = img.size
    design = random_stamp_design(rng)
    date_text = random_date(rng, "stamp")
    est = design.size * w * 1.1
    for _ in range(60):
        cx, cy = rng.uniform(est / 2, w - est / 2), rng.uniform(est / 2, h - est / 2)
        if not _overlaps((cx - est / 2, cy - est / 2, cx + est / 2, cy + est / 2), protect, pad=6):
            break
    else:
        return img.convert("RGB"), {"skipped": "no room clear of the protected region"}, identity
    out, box = render_stamp(rng, img, design, date_text, (cx, cy))
    params = {**design.__dict__, "date": date_text, "centre": (round(cx / w, 3), round(cy / h, 3))}
    return out, params, identity


# --- handwriting -------------------------------------------------------------------------------


def hand_text(rng: np.random.Generator, text: str, px: float) -> Image.Image:
    """Text lettered by hand: letters turned, resized and off a drifting baseline, slanted and wobbled."""
    px = max(10.0, px)
    pen = max(1, int(px / 28))
    width, height = int(px * 0.8 * len(text) + px * 2), int(px * 2.4)
    canvas = Image.new("L", (width, height), 0)
    x, drift = px * 0.5, 0.0
    for ch in text:
        size = px * rng.uniform(0.85, 1.15)
        f = font(size)
        drift = float(np.clip(drift + rng.normal(0, px * 0.05), -px * 0.3, px * 0.3))
        if ch != " ":
            tile = Image.new("L", (int(size * 2), int(size * 2)), 0)
            ImageDraw.Draw(tile).text(
                (size, size), ch, font=f, fill=255, anchor="mm", stroke_width=pen, stroke_fill=255
            )
            tile = tile.rotate(rng.uniform(-12, 12), Image.BICUBIC)
            canvas.paste(255, (int(x + f.getlength(ch) / 2 - size), int(height / 2 - size + drift)), tile)
        x += f.getlength(ch) * rng.uniform(0.95, 1.15) + pen + px * 0.05
    canvas = canvas.crop((0, 0, min(width, int(x + px * 0.5)), height))
    slant = rng.uniform(0.1, 0.35)
    canvas = canvas.transform(
        (canvas.width + int(slant * height), height), Image.AFFINE, (1, slant, -slant * height, 0, 1, 0)
    )
    return _wobble(rng, canvas, amp=px * 0.07, cell=int(px * 0.45)).filter(ImageFilter.GaussianBlur(0.5))


def _wobble(rng: np.random.Generator, mask: Image.Image, amp: float, cell: int) -> Image.Image:
    """Bend a drawing by a piecewise-affine warp with jittered grid nodes, so no two letters match."""
    w, h = mask.size
    nx, ny = max(1, w // max(4, cell)), max(1, h // max(4, cell))
    jx, jy = rng.normal(0, amp, (ny + 1, nx + 1)), rng.normal(0, amp, (ny + 1, nx + 1))
    mesh = []
    for j in range(ny):
        for i in range(nx):
            x0, x1, y0, y1 = i * w / nx, (i + 1) * w / nx, j * h / ny, (j + 1) * h / ny
            quad = (
                x0 + jx[j, i],
                y0 + jy[j, i],
                x0 + jx[j + 1, i],
                y1 + jy[j + 1, i],
                x1 + jx[j + 1, i + 1],
                y1 + jy[j + 1, i + 1],
                x1 + jx[j, i + 1],
                y0 + jy[j, i + 1],
            )
            mesh.append(((int(x0), int(y0), int(x1), int(y1)), quad))
    return mask.transform(mask.size, Image.MESH, mesh, Image.BILINEAR)


def _stroke(points: np.ndarray, size: tuple[int, int], pen: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).line([tuple(p) for p in points], fill=255, width=pen, joint="curve")
    return mask.filter(ImageFilter.GaussianBlur(0.5))


def scribble(rng: np.random.Generator, px: float) -> Image.Image:
    """Scribbled initials: two or three capitals run together in loops, with a flourish under them."""
    letters = "".join(rng.choice(list("ABCDEHKLMNPRSTWY"), int(rng.integers(2, 4))))
    head = hand_text(rng, letters, px)
    w, h = head.width + int(px), head.height + int(px * 0.8)
    canvas = Image.new("L", (w, h), 0)
    canvas.paste(head, (0, 0))
    t = np.linspace(0, 1, 160)
    loops = rng.uniform(2, 5)
    xs = t * (w - px) + px * 0.3 + np.cos(2 * np.pi * loops * t) * px * rng.uniform(0.15, 0.4)
    ys = head.height * 0.72 + np.sin(2 * np.pi * loops * t) * px * rng.uniform(0.15, 0.45) + t * px * 0.3
    flourish = _stroke(np.stack([xs, ys], 1), (w, h), max(1, int(px / 14)))
    return Image.fromarray(np.maximum(np.asarray(canvas), np.asarray(flourish)))


def tick(rng: np.random.Generator, px: float) -> Image.Image:
    """A tick made with one quick pen stroke, sometimes circled."""
    size = int(px * 2)
    a = (px * 0.3, px * rng.uniform(0.9, 1.2))
    b = (px * rng.uniform(0.7, 0.85), px * rng.uniform(1.6, 1.8))
    c = (px * rng.uniform(1.6, 1.9), px * rng.uniform(0.15, 0.4))
    pts = np.array([a, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 2), b, ((b[0] + c[0]) / 2 - 2, (b[1] + c[1]) / 2), c])
    mask = _stroke(pts, (size, size), max(2, int(px / 7)))
    if rng.random() < 0.3:
        ImageDraw.Draw(mask).ellipse((2, 2, size - 3, size - 3), outline=255, width=max(1, int(px / 12)))
    return mask


def handwriting(rng: np.random.Generator, img: Image.Image, protect: Box | None = None) -> Edited:
    """A handwritten mark anywhere on the page: scribbled initials, a short note or a tick."""
    w, h = img.size
    mark = str(rng.choice(["initials", "note", "note", "tick"]))
    px = w * rng.uniform(0.025, 0.045)
    text = None
    if mark == "note":
        text = str(rng.choice(NOTES))
        mask = hand_text(rng, text, px)
    elif mark == "initials":
        mask = scribble(rng, px * 1.2)
    else:
        mask = tick(rng, px * 1.3)
    mask = mask.rotate(rng.uniform(-15, 15), Image.BICUBIC, expand=True)
    ink = str(rng.choice(list(INKS)))
    out, box = place_mask(rng, img, mask, INKS[ink], rng.uniform(0.75, 0.95), protect)
    if box is None:
        return out, {"skipped": "no room clear of the protected region"}, identity
    return out, {"mark": mark, "text": text, "ink": ink, "box": [round(v, 3) for v in _rel(box, w, h)]}, identity


def place_mask(
    rng: np.random.Generator,
    img: Image.Image,
    mask: Image.Image,
    colour: Colour,
    alpha: float,
    protect: Box | None = None,
    at: tuple[float, float] | None = None,
) -> tuple[Image.Image, Box | None]:
    """Ink `mask` onto img at `at` (top-left, pixels) or at a random place clear of `protect`."""
    img = img.convert("RGB")
    w, h = img.size
    mw, mh = mask.size
    if at is None:
        for _ in range(60):
            x, y = rng.uniform(0, max(1, w - mw)), rng.uniform(0, max(1, h - mh))
            if not _overlaps((x, y, x + mw, y + mh), protect, pad=6):
                break
        else:
            return img, None
    else:
        x, y = at
    layer = Image.new("RGBA", mask.size, (*colour, 0))
    layer.putalpha(mask.point(lambda v: int(v * alpha)))
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ix, iy = int(x), int(y)
    overlay.alpha_composite(layer, (max(0, ix), max(0, iy)), (max(0, -ix), max(0, -iy)))
    return _composite(img, overlay), (x, y, x + mw, y + mh)


def _rel(box: Box, w: int, h: int) -> Box:
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


# --- mats, frames, letterboxes ------------------------------------------------------------------


MAT_COLOURS: dict[str, Colour] = {
    "white": (250, 250, 248),
    "black": (14, 14, 14),
    "grey": (128, 128, 128),
    "light_grey": (205, 205, 205),
    "cream": (238, 230, 208),
}
FRAME_COLOURS: tuple[Colour, ...] = ((92, 60, 35), (30, 28, 26), (176, 141, 60), (200, 200, 196), (120, 30, 30))
MAX_SIDE = 3200


def mat(rng: np.random.Generator, img: Image.Image, layout: str | None = None) -> Edited:
    """A mat, frame or letterbox taking 3-60 % of the frame, plain, noisy or gradient, even or not."""
    img = img.convert("RGB")
    w, h = img.size
    layout = layout or str(rng.choice(["mat", "mat", "frame", "letterbox", "pillarbox"]))
    share = float(rng.uniform(0.03, 0.60))
    even = rng.random() < 0.5
    split_x, split_y = (0.5, 0.5) if even else (rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9))
    if layout == "mat" and not even and rng.random() < 0.5:
        split_x, split_y = 0.5, rng.uniform(0.3, 0.45)  # bottom-weighted museum mat
    pad_x = pad_y = 0
    if layout in ("mat", "frame", "pillarbox"):
        pad_x = int(round(w * share / (1 - share)))
    if layout in ("mat", "frame", "letterbox"):
        pad_y = int(round(h * share / (1 - share)))
    pad_x, pad_y = max(pad_x, 2 if layout != "letterbox" else 0), max(pad_y, 2 if layout != "pillarbox" else 0)
    left, top = int(pad_x * split_x), int(pad_y * split_y)
    cw, ch = w + pad_x, h + pad_y
    name, colour = _mat_colour(rng)
    style = str(rng.choice(["plain", "plain", "noisy", "gradient"]))
    canvas = _mat_canvas(rng, cw, ch, colour, style)
    if layout == "frame":
        band = int(rng.uniform(0.2, 0.6) * min(pad_x, pad_y) / 2) + 1
        fc = FRAME_COLOURS[int(rng.integers(len(FRAME_COLOURS)))]
        draw = ImageDraw.Draw(canvas)
        for i in range(band):
            shade = 0.75 + 0.35 * i / max(1, band)
            c = tuple(int(min(255, v * shade)) for v in fc)
            draw.rectangle((i, i, cw - 1 - i, ch - 1 - i), outline=c)
    canvas.paste(img, (left, top))
    if layout in ("mat", "frame") and rng.random() < 0.4:  # bevel of a cut mat
        bevel = max(1, int(0.004 * max(w, h)))
        ImageDraw.Draw(canvas).rectangle(
            (left - bevel, top - bevel, left + w + bevel - 1, top + h + bevel - 1), outline=(245, 243, 235), width=bevel
        )
    scale = min(1.0, MAX_SIDE / max(cw, ch))
    if scale < 1.0:
        canvas = canvas.resize((max(1, int(cw * scale)), max(1, int(ch * scale))), Image.LANCZOS)
    params = {
        "layout": layout,
        "share": round(share, 3),
        "even": even,
        "colour": name,
        "style": style,
        "scaled": round(scale, 3),
    }

    def move(box: Box) -> Box:
        return tuple((v + (left if i % 2 == 0 else top)) * scale for i, v in enumerate(box))  # type: ignore[return-value]

    return canvas, params, move


def _mat_colour(rng: np.random.Generator) -> tuple[str, Colour]:
    if rng.random() < 0.25:
        return "coloured", random_colour(rng)
    name = str(rng.choice(list(MAT_COLOURS)))
    return name, MAT_COLOURS[name]


def _mat_canvas(rng: np.random.Generator, w: int, h: int, colour: Colour, style: str) -> Image.Image:
    if style == "plain":
        return Image.new("RGB", (w, h), colour)
    base = np.empty((h, w, 3), np.float32)
    base[:] = colour
    if style == "noisy":
        grain = (_smooth(rng, w, h, max(8, min(w, h) // 12)) - 0.5) * np.float32(rng.uniform(8, 24))
        base += (grain + _noise(rng, h, w, rng.uniform(2, 7)))[..., None]
    else:
        t = _ramp(rng, w, h)[..., None]
        other = (np.array(colour, np.float32) + rng.uniform(-60, 60, 3)).astype(np.float32)
        base = base * (1 - t) + other * t
    return _clip(base)


# --- geometry ----------------------------------------------------------------------------------


def _bed(rng: np.random.Generator) -> Colour:
    kind = rng.random()
    if kind < 0.5:
        v = int(rng.integers(225, 256))
        return (v, v, v)
    if kind < 0.7:
        v = int(rng.integers(0, 40))
        return (v, v, v)
    if kind < 0.85:
        v = int(rng.integers(90, 170))
        return (v, v, v)
    return random_colour(rng)


def _resample(img: Image.Image) -> Image.Resampling:
    """Bicubic, or bilinear on large pictures where bicubic costs half a second a turn."""
    return Image.BICUBIC if img.width * img.height <= 2_500_000 else Image.BILINEAR


def _rotate_box(box: Box, angle: float, w: int, h: int, dx: float, dy: float) -> Box:
    """Where `box` lands when the w x h picture is turned `angle` degrees (PIL's sense) and shifted."""
    a = np.radians(angle)
    cx, cy = w / 2, h / 2
    xs, ys = np.array([box[0], box[2], box[2], box[0]]) - cx, np.array([box[1], box[1], box[3], box[3]]) - cy
    rx = xs * np.cos(a) + ys * np.sin(a) + cx + dx
    ry = -xs * np.sin(a) + ys * np.cos(a) + cy + dy
    return (float(rx.min()), float(ry.min()), float(rx.max()), float(ry.max()))


def skew(rng: np.random.Generator, img: Image.Image, variant: str | None = None, max_angle: float = 10.0) -> Edited:
    """Turned by up to 10 degrees either way, on a scanner bed or cropped back to the original frame."""
    img = img.convert("RGB")
    w, h = img.size
    angle = float(rng.uniform(0.3, max_angle) * rng.choice([-1, 1]))
    variant = variant or str(rng.choice(["bed", "bed", "frame", "inscribed"]))
    if variant == "inscribed" and abs(angle) > 6:
        angle = float(np.sign(angle) * rng.uniform(0.3, 6))
    bed = _bed(rng)
    params: dict[str, object] = {"angle": round(angle, 2), "variant": variant, "bed": bed}
    if variant == "bed":
        rot = img.rotate(angle, _resample(img), expand=True, fillcolor=bed)
        margin = int(rng.uniform(0, 0.05) * max(w, h))
        canvas = Image.new("RGB", (rot.width + 2 * margin, rot.height + 2 * margin), bed)
        canvas.paste(rot, (margin, margin))
        dx, dy = (rot.width - w) / 2 + margin, (rot.height - h) / 2 + margin
        params["margin"] = margin
        return canvas, params, lambda b: _rotate_box(b, angle, w, h, dx, dy)
    rot = img.rotate(angle, _resample(img), expand=False, fillcolor=bed)
    if variant == "frame":
        return rot, params, lambda b: _rotate_box(b, angle, w, h, 0, 0)
    a = np.radians(abs(angle))
    s = min(w / (w * np.cos(a) + h * np.sin(a)), h / (w * np.sin(a) + h * np.cos(a)))
    cw, ch = w * s, h * s
    x0, y0 = (w - cw) / 2, (h - ch) / 2
    out = rot.crop((int(x0), int(y0), int(x0 + cw), int(y0 + ch))).resize((w, h), Image.LANCZOS)

    def inscribed(box: Box) -> Box:
        r = _rotate_box(box, angle, w, h, 0, 0)
        return ((r[0] - x0) / s, (r[1] - y0) / s, (r[2] - x0) / s, (r[3] - y0) / s)

    params["zoom"] = round(1 / s, 3)
    return out, params, inscribed


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 matrix H with dst ~ H @ src for four point pairs."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return np.append(coeffs, 1.0).reshape(3, 3)


def perspective(rng: np.random.Generator, img: Image.Image, max_shift: float = 0.03) -> Edited:
    """A photographed print: each corner moved on its own by up to 3 % of the side, some light fall-off."""
    img = img.convert("RGB")
    w, h = img.size
    variant = str(rng.choice(["bed", "frame"]))
    margin = rng.uniform(0.02, 0.06) if variant == "bed" else 0.0
    ow, oh = int(w * (1 + 2 * margin)), int(h * (1 + 2 * margin))
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], float)
    shifts = rng.uniform(-max_shift, max_shift, (4, 2)) * [w, h]
    dst = src + shifts + [w * margin, h * margin]
    to_src = _homography(dst, src)  # PIL wants output -> input
    bed = _bed(rng)
    out = img.transform((ow, oh), Image.PERSPECTIVE, tuple(to_src.flatten()[:8]), _resample(img), fillcolor=bed)
    params: dict[str, object] = {
        "variant": variant,
        "corner_shifts": [round(float(v), 4) for v in (shifts / [w, h]).flatten()],
    }
    if rng.random() < 0.5:
        arr = np.asarray(out, np.float32)
        lo, hi = sorted(rng.uniform(0.82, 1.08, 2))
        out = _clip(arr * (np.float32(lo) + np.float32(hi - lo) * _ramp(rng, ow, oh))[..., None])
        params["light"] = (round(float(lo), 3), round(float(hi), 3))
    if rng.random() < 0.5:
        sigma = float(rng.uniform(0.3, 0.9))
        out = out.filter(ImageFilter.GaussianBlur(sigma))
        params["blur"] = round(sigma, 2)
    forward = _homography(src, dst)

    def move(box: Box) -> Box:
        pts = np.array([(box[0], box[1], 1), (box[2], box[1], 1), (box[2], box[3], 1), (box[0], box[3], 1)], float)
        p = pts @ forward.T
        xs, ys = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
        return (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))

    return out, params, move


def resize(rng: np.random.Generator, img: Image.Image, lo: float = 0.25, hi: float = 0.75) -> Edited:
    w, h = img.size
    f = float(rng.uniform(lo, hi))
    names = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "box": Image.BOX}
    method = str(rng.choice(list(names)))
    out = img.resize((max(1, int(w * f)), max(1, int(h * f))), names[method])
    sx, sy = out.width / w, out.height / h
    return out, {"factor": round(f, 3), "filter": method}, lambda b: (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)


def crop(rng: np.random.Generator, img: Image.Image, lo: float = 0.02, hi: float = 0.08) -> Edited:
    """Trim 2-8 % of each dimension, split unevenly between the two sides."""
    w, h = img.size
    cx, cy = rng.uniform(lo, hi), rng.uniform(lo, hi)
    fx, fy = rng.uniform(0, 1), rng.uniform(0, 1)
    left, top = int(w * cx * fx), int(h * cy * fy)
    right, bottom = w - int(w * cx * (1 - fx)), h - int(h * cy * (1 - fy))
    params = {"width_cut": round(cx, 3), "height_cut": round(cy, 3), "box": (left, top, right, bottom)}
    return img.crop((left, top, right, bottom)), params, lambda b: (b[0] - left, b[1] - top, b[2] - left, b[3] - top)


def grey(rng: np.random.Generator, img: Image.Image) -> Edited:
    return img.convert("L"), {}, identity


def rescan(rng: np.random.Generator, img: Image.Image) -> Edited:
    """Printed and scanned again: new scale, a slight turn on the bed, blur, exposure, colour cast, noise."""
    img = img.convert("RGB")
    w, h = img.size
    params: dict[str, object] = {}
    move: BoxMap = identity
    if rng.random() < 0.5:
        img, p, move = resize(rng, img, 0.6, 1.0)
        params["scale"] = p["factor"]
    if rng.random() < 0.6:
        angle = float(rng.uniform(0.2, 1.5) * rng.choice([-1, 1]))
        v = int(rng.integers(220, 252))
        rot = img.rotate(angle, _resample(img), expand=True, fillcolor=(v, v, v))
        margin = int(rng.uniform(0.005, 0.03) * max(w, h))
        canvas = Image.new("RGB", (rot.width + 2 * margin, rot.height + 2 * margin), (v, v, v))
        canvas.paste(rot, (margin, margin))
        iw, ih = img.size
        dx, dy = (rot.width - iw) / 2 + margin, (rot.height - ih) / 2 + margin
        first = move
        move = lambda b: _rotate_box(first(b), angle, iw, ih, dx, dy)  # noqa: E731
        img = canvas
        params["angle"] = round(angle, 2)
    sigma = float(rng.uniform(0.3, 1.2))
    gain, offset, gamma = rng.uniform(0.85, 1.15), rng.uniform(-12, 12), rng.uniform(0.85, 1.15)
    cast = rng.uniform(0.95, 1.05, 3) if rng.random() < 0.3 else np.ones(3)
    levels = np.arange(256) / 255.0
    lut = [int(v) for c in cast for v in np.clip(255.0 * levels**gamma * gain * c + offset, 0, 255)]
    img = img.filter(ImageFilter.GaussianBlur(sigma)).point(lut)
    params["cast"] = bool((cast != 1).any())
    noise = float(rng.uniform(2, 8))
    arr = np.asarray(img, np.float32) + _noise(rng, img.height, img.width, noise)[..., None]
    params.update(blur=round(sigma, 2), gain=round(gain, 3), offset=round(offset, 1), gamma=round(gamma, 3))
    params["noise"] = round(noise, 2)
    return _clip(arr), params, move


ROTATIONS = {
    "rot90": Image.Transpose.ROTATE_90,
    "rot180": Image.Transpose.ROTATE_180,
    "rot270": Image.Transpose.ROTATE_270,
    "mirror_h": Image.Transpose.FLIP_LEFT_RIGHT,
    "mirror_v": Image.Transpose.FLIP_TOP_BOTTOM,
}
