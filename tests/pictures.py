"""Synthetic pictures made in memory: photos, artwork, document pages and forms, and the edits copies carry.

Seeded with numpy generators, so a test gets the same picture every run; bench/dataset.py builds its
labelled sets from the same pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SYLLABLES = "ka lo mi tan ser ve ri on dra pel us gho ba nit qua em sor li fen ta ho ming wu".split()
NAMES = "Chan Wong Lee Cheung Lau Ho Ng Leung Tsang Yip Kwok Lam Tam Fung Mak Yeung".split()
GIVEN = "Ka-ming Siu-fong Wai-man Mei-ling Chi-keung Hoi-yan Tsz-kin Wing-sze Ka-yan".split()
CAPTIONS = ("© HK Museum 2021", "Archive copy", "SAMPLE", "© Records Office", "Photo: HKPL")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, int(size)))


def _smooth_noise(rng: np.random.Generator, w: int, h: int, cell: int) -> np.ndarray:
    """Low-frequency noise in 0..1: random values on a coarse grid, upscaled smoothly."""
    gw, gh = max(2, w // cell + 2), max(2, h // cell + 2)
    small = Image.fromarray((rng.random((gh, gw)) * 255).astype(np.uint8))
    return np.asarray(small.resize((w, h), Image.BICUBIC), dtype=np.float32) / 255.0


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, 3).astype(np.float32)


def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Smooth two-colour gradient at a random angle with low-frequency mottling."""
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * np.cos(angle) + yy * np.sin(angle)) / max(w, h)
    t = (t - t.min()) / max(1e-6, float(np.ptp(t)))
    c1, c2 = _random_colour(rng), _random_colour(rng)
    img = c1 * (1 - t[..., None]) + c2 * t[..., None]
    mottle = _smooth_noise(rng, w, h, int(rng.integers(20, 120))) - 0.5
    return img + mottle[..., None] * rng.uniform(20, 90)


@dataclass
class Shape:
    """A textured object placed in a scene, in scene pixel coordinates."""

    kind: str
    box: tuple[float, float, float, float]
    colour: np.ndarray
    texture_seed: int
    texture_cell: int
    texture_amp: float


def random_shapes(rng: np.random.Generator, w: int, h: int, count: int) -> list[Shape]:
    shapes = []
    for _ in range(count):
        sw = rng.uniform(0.08, 0.45) * w
        sh = rng.uniform(0.08, 0.45) * h
        x0, y0 = rng.uniform(-0.1 * w, w - 0.5 * sw), rng.uniform(-0.1 * h, h - 0.5 * sh)
        shapes.append(
            Shape(
                kind=str(rng.choice(["ellipse", "rect", "poly", "poly"])),
                box=(x0, y0, x0 + sw, y0 + sh),
                colour=_random_colour(rng),
                texture_seed=int(rng.integers(1 << 30)),
                texture_cell=int(rng.integers(3, 24)),
                texture_amp=float(rng.uniform(0.15, 0.6)),
            )
        )
    return shapes


def _shape_mask(shape: Shape, w: int, h: int, dx: float, dy: float) -> Image.Image:
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    x0, y0, x1, y1 = (shape.box[0] + dx, shape.box[1] + dy, shape.box[2] + dx, shape.box[3] + dy)
    if shape.kind == "ellipse":
        draw.ellipse((x0, y0, x1, y1), fill=255)
    elif shape.kind == "rect":
        draw.rectangle((x0, y0, x1, y1), fill=255)
    else:
        prng = np.random.default_rng(shape.texture_seed)
        n = int(prng.integers(3, 8))
        ang = np.sort(prng.uniform(0, 2 * np.pi, n))
        rad = prng.uniform(0.5, 1.0, n)
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        draw.polygon(
            [(cx + rx * r * np.cos(a), cy + ry * r * np.sin(a)) for a, r in zip(ang, rad, strict=False)], fill=255
        )
    return mask


def render_shapes(
    base: np.ndarray, shapes: list[Shape], offsets: dict[int, tuple[float, float]] | None = None
) -> np.ndarray:
    """Composite textured shapes over base (float HxWx3), each optionally displaced."""
    h, w = base.shape[:2]
    img = base.copy()
    for i, shape in enumerate(shapes):
        dx, dy = (offsets or {}).get(i, (0.0, 0.0))
        mask = np.asarray(_shape_mask(shape, w, h, dx, dy), dtype=np.float32) / 255.0
        ys, xs = np.nonzero(mask)
        if len(ys) == 0:
            continue
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        trng = np.random.default_rng(shape.texture_seed)
        tex = _smooth_noise(trng, x1 - x0, y1 - y0, shape.texture_cell)
        fill = shape.colour * (1 - shape.texture_amp + 2 * shape.texture_amp * tex[..., None])
        m = mask[y0:y1, x0:x1, None]
        img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - m) + fill * m
    return img


def to_image(arr: np.ndarray, blur: float = 0.8) -> Image.Image:
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return img.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else img


def photo_size(rng: np.random.Generator, large_share: float = 0.15) -> tuple[int, int]:
    long_side = int(rng.integers(1600, 2400)) if rng.random() < large_share else int(rng.integers(480, 960))
    ratio = float(rng.choice([4 / 3, 3 / 2, 1.0, 16 / 9, 5 / 4]))
    short = int(long_side / ratio)
    return (long_side, short) if rng.random() < 0.7 else (short, long_side)


def make_photo(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A photograph-like scene: gradient, mottled light, overlapping textured objects, grain."""
    w, h = size
    shapes = random_shapes(rng, w, h, int(rng.integers(5, 16)))
    arr = render_shapes(background(rng, w, h), shapes)
    arr += rng.normal(0, rng.uniform(1, 5), arr.shape[:2])[..., None]
    return to_image(arr, blur=float(rng.uniform(0.5, 1.5)))


def make_artwork(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Flat-colour poster art: a small palette, hard-edged shapes, no texture."""
    w, h = size
    palette = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(int(rng.integers(3, 7)))]
    img = Image.new("RGB", (w, h), palette[0])
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(4, 14))):
        colour = palette[int(rng.integers(len(palette)))]
        x0, y0 = rng.uniform(-0.1, 0.9) * w, rng.uniform(-0.1, 0.9) * h
        x1, y1 = x0 + rng.uniform(0.1, 0.6) * w, y0 + rng.uniform(0.1, 0.6) * h
        kind = rng.integers(4)
        if kind == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif kind == 1:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == 2:
            draw.polygon([(x0, y1), ((x0 + x1) / 2, y0), (x1, y1)], fill=colour)
        else:
            step = max(4, int((x1 - x0) / rng.integers(3, 9)))
            for x in range(int(x0), int(x1), 2 * step):
                draw.rectangle((x, y0, x + step, y1), fill=colour)
    return img


# --- documents and forms -------------------------------------------------------------


def word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, int(rng.integers(1, 4))))


@dataclass(frozen=True)
class Layout:
    """The fixed look of a document; pages of one document share it."""

    size: tuple[int, int]
    margin: int
    heading_px: int
    body_px: int
    leading: float
    columns: int
    table_rows: int
    table_cols: int
    paper: int


def random_layout(rng: np.random.Generator) -> Layout:
    size = (850, 1100) if rng.random() < 0.6 else (1240, 1754)
    scale = size[0] / 850
    return Layout(
        size=size,
        margin=int(rng.uniform(50, 110) * scale),
        heading_px=int(rng.uniform(26, 40) * scale),
        body_px=int(rng.uniform(13, 20) * scale),
        leading=float(rng.uniform(1.3, 1.8)),
        columns=int(rng.choice([1, 1, 2])),
        table_rows=int(rng.choice([0, 0, 4, 6, 8])),
        table_cols=int(rng.integers(3, 6)),
        paper=int(rng.integers(238, 256)),
    )


def paragraph_lines(rng: np.random.Generator, font, width: int, n_words: int) -> list[str]:
    lines, line = [], ""
    for _ in range(n_words):
        candidate = f"{line} {word(rng)}".strip()
        if font.getlength(candidate) > width and line:
            lines.append(line)
            line = candidate.split(" ")[-1]
        else:
            line = candidate
    return lines + ([line] if line else [])


def make_document_page(rng: np.random.Generator, layout: Layout, page_no: int) -> Image.Image:
    """A text page: heading, paragraphs in 1-2 columns, optional table, page number."""
    w, h = layout.size
    img = Image.new("RGB", (w, h), (layout.paper,) * 3)
    draw = ImageDraw.Draw(img)
    body, head = _font(layout.body_px), _font(layout.heading_px)
    draw.text((layout.margin, layout.margin), " ".join(word(rng) for _ in range(4)).title(), font=head, fill=20)
    top = layout.margin + int(layout.heading_px * 1.8)
    bottom = h - layout.margin - (layout.table_rows * layout.body_px * 2 if layout.table_rows else 0)
    gap = layout.body_px * 2
    col_w = (w - 2 * layout.margin - gap * (layout.columns - 1)) // layout.columns
    step = int(layout.body_px * layout.leading)
    for col in range(layout.columns):
        x, y = layout.margin + col * (col_w + gap), top
        while y < bottom - step:
            for text in paragraph_lines(rng, body, col_w, int(rng.integers(25, 90))):
                if y >= bottom - step:
                    break
                draw.text((x, y), text, font=body, fill=25)
                y += step
            y += step // 2
    if layout.table_rows:
        _draw_table(rng, draw, layout, body, bottom)
    draw.text((w // 2, h - layout.margin // 2), f"- {page_no} -", font=body, fill=60, anchor="mm")
    return img


def _draw_table(rng: np.random.Generator, draw: ImageDraw.ImageDraw, layout: Layout, font, top: int) -> None:
    w = layout.size[0]
    row_h = layout.body_px * 2
    col_w = (w - 2 * layout.margin) // layout.table_cols
    for r in range(layout.table_rows + 1):
        y = top + r * row_h
        draw.line((layout.margin, y, w - layout.margin, y), fill=40, width=2)
    for c in range(layout.table_cols + 1):
        x = layout.margin + c * col_w
        draw.line((x, top, x, top + layout.table_rows * row_h), fill=40, width=2)
    for r in range(layout.table_rows):
        for c in range(layout.table_cols):
            text = word(rng) if c == 0 else f"{rng.integers(0, 100000):,}"
            draw.text((layout.margin + c * col_w + 6, top + r * row_h + row_h // 4), text, font=font, fill=30)


@dataclass(frozen=True)
class FormTemplate:
    """A blank form: labelled fields and a grid of tick boxes."""

    size: tuple[int, int]
    title: str
    fields: tuple[str, ...]
    boxes: tuple[str, ...]
    font_px: int


def random_form_template(rng: np.random.Generator) -> FormTemplate:
    labels = ["Name", "HKID No.", "Date", "Department", "Accession No.", "Telephone", "Address", "Reference"]
    n = int(rng.integers(4, 8))
    return FormTemplate(
        size=(850, 1100) if rng.random() < 0.7 else (1240, 1754),
        title=f"Application for {word(rng).title()} {word(rng).title()}",
        fields=tuple(rng.choice(labels, n, replace=False)),
        boxes=tuple(word(rng).title() for _ in range(int(rng.integers(4, 9)))),
        font_px=int(rng.uniform(16, 22)),
    )


def random_form_values(rng: np.random.Generator, template: FormTemplate) -> dict[str, object]:
    values: dict[str, object] = {}
    for label in template.fields:
        if label == "Name":
            values[label] = f"{rng.choice(NAMES)} {rng.choice(GIVEN)}"
        elif label == "Date":
            values[label] = f"{rng.integers(1, 29):02d}/{rng.integers(1, 13):02d}/{rng.integers(1960, 2025)}"
        else:
            values[label] = f"{rng.choice(list('ABCDEGKPRZ'))}{rng.integers(100000, 9999999)}"
    values["ticks"] = tuple(bool(rng.random() < 0.4) for _ in template.boxes)
    return values


def vary_form_values(rng: np.random.Generator, template: FormTemplate, base: dict[str, object]) -> dict[str, object]:
    """Change one to three small things (a name, a number, a tick): the hardest negatives."""
    values = dict(base)
    fresh = random_form_values(rng, template)
    keys = [*template.fields, "tick"]
    for key in rng.choice(keys, int(rng.integers(1, 4)), replace=False):
        if key == "tick":
            ticks = list(values["ticks"])  # type: ignore[arg-type]
            i = int(rng.integers(len(ticks)))
            ticks[i] = not ticks[i]
            values["ticks"] = tuple(ticks)
        else:
            values[str(key)] = fresh[str(key)]
    return values


def make_form(template: FormTemplate, values: dict[str, object]) -> Image.Image:
    w, h = template.size
    s = w / 850
    img = Image.new("RGB", (w, h), (252, 252, 250))
    draw = ImageDraw.Draw(img)
    font, title = _font(template.font_px * s), _font(30 * s)
    draw.rectangle((40 * s, 40 * s, w - 40 * s, h - 40 * s), outline=30, width=max(2, int(2 * s)))
    draw.text((w / 2, 100 * s), template.title, font=title, fill=15, anchor="mm")
    y = 180 * s
    for label in template.fields:
        draw.text((80 * s, y), f"{label}:", font=font, fill=20)
        draw.line((300 * s, y + 28 * s, w - 80 * s, y + 28 * s), fill=60, width=max(1, int(s)))
        draw.text((310 * s, y - 2 * s), str(values[label]), font=_font(template.font_px * 1.2 * s), fill=(10, 20, 110))
        y += 70 * s
    y += 30 * s
    for i, (label, ticked) in enumerate(zip(template.boxes, values["ticks"], strict=False)):  # type: ignore[arg-type]
        x = (80 + (i % 2) * 380) * s
        yy = y + (i // 2) * 60 * s
        draw.rectangle((x, yy, x + 28 * s, yy + 28 * s), outline=20, width=max(2, int(2 * s)))
        if ticked:
            draw.line(
                (x + 5 * s, yy + 14 * s, x + 12 * s, yy + 24 * s, x + 26 * s, yy + 2 * s),
                fill=(10, 20, 110),
                width=int(4 * s),
            )
        draw.text((x + 45 * s, yy + 2 * s), label, font=font, fill=20)
    draw.text((80 * s, h - 160 * s), "Signature: ______________________", font=font, fill=20)
    return img


# --- duplicate transforms ------------------------------------------------------------------


# --- edits a copy may carry ------------------------------------------------------------


def caption(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    img = img.convert("RGB").copy()
    w, h = img.size
    font = _font(max(w, h) * rng.uniform(0.02, 0.035))
    text = str(rng.choice(CAPTIONS))
    tw, th = font.getbbox(text)[2:]
    pad = int(max(w, h) * 0.015)
    x = pad if rng.random() < 0.5 else w - tw - pad
    y = pad if rng.random() < 0.3 else h - th - pad
    draw = ImageDraw.Draw(img, "RGBA")
    if rng.random() < 0.5:
        draw.rectangle((x - 4, y - 2, x + tw + 4, y + th + 4), fill=(0, 0, 0, 110))
        draw.text((x, y), text, font=font, fill=(255, 255, 255, 230))
    else:
        draw.text((x, y), text, font=font, fill=(255, 255, 255, 200), stroke_width=1, stroke_fill=(0, 0, 0, 160))
    return img


def border(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    w, h = img.size
    colour = tuple(int(v) for v in rng.choice([(255, 255, 255), (0, 0, 0), (128, 128, 128), (240, 235, 220)]))
    if rng.random() < 0.5:  # frame on all sides
        pads = [int(rng.uniform(0.03, 0.1) * max(w, h))] * 4
    else:  # letterbox to a square or 16:9 canvas, at least a few % of padding
        target = 1.0 if rng.random() < 0.5 else 16 / 9
        cw, ch = (w, int(w / target)) if w / h > target else (int(h * target), h)
        cw, ch = max(cw, int(w * 1.06)), max(ch, int(h * 1.06))
        pads = [(cw - w) // 2, (ch - h) // 2, cw - w - (cw - w) // 2, ch - h - (ch - h) // 2]
    canvas = Image.new("RGB", (w + pads[0] + pads[2], h + pads[1] + pads[3]), colour)
    canvas.paste(img.convert("RGB"), (pads[0], pads[1]))
    return canvas


def rescan(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """A print scanned again: slightly skewed on a scanner bed, with noise, blur and a new exposure."""
    angle = float(rng.uniform(0.5, 1.5) * rng.choice([-1, 1]))
    bed = int(rng.integers(225, 250))
    rot = img.convert("RGB").rotate(angle, Image.BICUBIC, expand=True, fillcolor=(bed, bed, bed))
    margin = int(0.02 * max(img.size))
    canvas = Image.new("RGB", (rot.width + 2 * margin, rot.height + 2 * margin), (bed, bed, bed))
    canvas.paste(rot, (margin, margin))
    arr = np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float32)
    arr = (
        arr * rng.uniform(0.9, 1.1) + rng.uniform(-12, 12) + rng.normal(0, rng.uniform(3, 8), arr.shape[:2])[..., None]
    )
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
