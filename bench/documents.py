"""Typed letters on letterhead, the pages that date stamps and handwritten notes end up on."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from bench.edits import ORGS, font, random_date, scribble
from tests.pictures import GIVEN, NAMES, paragraph_lines, word

STREETS = ("Queen's Road Central", "Nathan Road", "Hennessy Road", "Des Voeux Road", "Argyle Street", "King's Road")


def make_letter(rng: np.random.Generator, size: tuple[int, int] | None = None) -> Image.Image:
    """A one-page letter: letterhead, reference and date, address, paragraphs, signature."""
    w, h = size or ((850, 1100) if rng.random() < 0.6 else (1240, 1754))
    s = w / 850
    paper = int(rng.integers(240, 256))
    img = Image.new("RGB", (w, h), (paper, paper, max(228, paper - 6)))
    draw = ImageDraw.Draw(img)
    margin = int(rng.uniform(70, 110) * s)
    accent = tuple(int(v) for v in rng.integers(0, 140, 3))
    org = str(rng.choice(ORGS))
    head = font(rng.uniform(26, 36) * s)
    if rng.random() < 0.5:
        draw.text((w / 2, margin), org.upper(), font=head, fill=accent, anchor="mt")
    else:
        draw.text((margin, margin), org.upper(), font=head, fill=accent)
    small, body = font(11 * s), font(rng.uniform(14, 17) * s)
    y = margin + head.size * 1.4
    phone = f"{rng.integers(2000, 3999)} {rng.integers(1000, 9999)}"
    address = f"{rng.integers(1, 300)} {rng.choice(STREETS)}, Hong Kong   Tel. {phone}"
    draw.text((w / 2, y), address, font=small, fill=60, anchor="mt")
    y += small.size * 1.8
    draw.line((margin, y, w - margin, y), fill=accent, width=max(1, int(2 * s)))
    y += 30 * s
    draw.text(
        (margin, y),
        f"Our ref.: {word(rng).upper()[:3]}/{rng.integers(1, 999)}/{rng.integers(50, 99)}",
        font=body,
        fill=25,
    )
    draw.text((w - margin, y), random_date(rng, "long"), font=body, fill=25, anchor="ra")
    y += body.size * 2.5
    recipient = [
        f"Mr {rng.choice(GIVEN)} {rng.choice(NAMES)}",
        f"{word(rng).title()} {word(rng).title()} Company Limited",
        f"{rng.integers(1, 200)} {rng.choice(STREETS)}",
        "Hong Kong",
    ]
    for line in recipient:
        draw.text((margin, y), line, font=body, fill=25)
        y += body.size * 1.35
    y += body.size * 1.5
    draw.text((margin, y), f"Dear Mr {recipient[0].split()[-1]},", font=body, fill=25)
    y += body.size * 2
    subject = f"Re: {word(rng).title()} {word(rng).title()} {word(rng).title()}"
    draw.text((margin, y), subject, font=body, fill=20, stroke_width=1, stroke_fill=20)
    y += body.size * 2
    step = body.size * rng.uniform(1.3, 1.6)
    bottom = h - margin - 260 * s
    for _ in range(int(rng.integers(2, 6))):
        for line in paragraph_lines(rng, body, w - 2 * margin, int(rng.integers(30, 90))):
            if y > bottom:
                break
            draw.text((margin, y), line, font=body, fill=25)
            y += step
        y += step * 0.6
    y = min(y, bottom) + step
    draw.text((margin, y), str(rng.choice(["Yours faithfully,", "Yours sincerely,"])), font=body, fill=25)
    sig = scribble(rng, 34 * s)
    ink = Image.new("RGB", sig.size, (20, 30, 110))
    img.paste(ink, (int(margin), int(y + step * 1.1)), sig)
    y += step * 1.2 + sig.height
    draw.text((margin, y), f"{rng.choice(GIVEN)} {rng.choice(NAMES)}", font=body, fill=25)
    draw.text((margin, y + step), f"for Director of {org}", font=body, fill=25)
    return img
