"""The verification statement as a PDF (reportlab), with a Traditional Chinese font embedded."""

import base64
import io
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# Debian's fonts-arphic-uming (scripts/ensure_fonts.sh): TrueType outlines, which reportlab can embed;
# face 1 of the collection is "AR PL UMing HK", Hong Kong's forms of the characters, with Latin letters too.
FONT_PATH = "/usr/share/fonts/truetype/arphic/uming.ttc"
FONT_FACE = 1
FONT = "UMingHK"
WIDTH = A4[0] - 36 * mm


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=FONT_FACE))
    return FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=_font(), fontSize=10, leading=14, wordWrap="CJK")
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=6),
        "heading": ParagraphStyle("heading", parent=base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
        "verdict": ParagraphStyle("verdict", parent=base, fontSize=12, leading=17, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#444444")),
        "mono": ParagraphStyle("mono", parent=base, fontSize=8, leading=11, wordWrap=None),
    }


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    cells = [[_p(c, "small") for c in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _picture(data: str, side: float) -> Image:
    image = Image(io.BytesIO(base64.b64decode(data)))
    scale = min(side / image.imageWidth, side / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
    return image


def _answer(answer) -> list:
    facts = answer.facts
    item = facts["item"]
    titles = " · ".join(t for t in (item["title"], item["title_zh"]) if t)
    flow: list = [_p(f"{item['identifier']}  {titles}", "heading"), _p(answer.verdict, "verdict")]
    if answer.submitted_picture:
        side = WIDTH / 2 - 6 * mm
        pictures = Table(
            [
                [_picture(answer.submitted_picture, side), _picture(answer.stored_picture, side)],
                [_p(_("Submitted copy"), "small"), _p(answer.stored_label, "small")],
            ],
            colWidths=[WIDTH / 2, WIDTH / 2],
        )
        pictures.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, 0), "MIDDLE")]))
        flow += [pictures]
        if answer.alignment:
            flow.append(_p(answer.alignment, "small"))
    if answer.decision:
        flow += [_p(answer.decision), _p(answer.reason)]
    auth = facts["authoritative"]
    if auth:
        flow += [_p(_("SHA-256 of the authoritative version:"), "small"), _p(auth["sha256"], "mono")]
    rows = [[_("Version"), _("File"), _("Source"), _("Kind of match"), _("Verification")]]
    for m in answer.matches:
        note = f" ({_('the authoritative version')})" if m["authoritative"] else ""
        rows.append([str(m["id"]), m["filename"], m["source"], m["kind_words"] + note, m["reason_words"] or "—"])
    widths = [16 * mm, 42 * mm, 30 * mm, 32 * mm, None]
    flow += [Spacer(1, 4), _p(_("Every matching version"), "body"), _table(rows, widths)]
    if answer.differences:
        rows = [[_("What differs"), _("Submitted copy"), _("Authoritative version")]]
        rows += [[label, a or "—", b or "—"] for label, a, b in answer.differences]
        flow += [Spacer(1, 4), _table(rows, [40 * mm, None, None])]
    return flow


def statement_pdf(words: Any) -> bytes:  # records.statement.StatementWords, which imports this module
    """The statement, page by page; the words are those of the active language."""
    facts = words.facts
    sub = facts["submitted"]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("Verification statement"),
        author=facts["checked_by"],
        creator="dupfinder",
    )
    flow: list = [
        _p(_("Verification statement"), "title"),
        _p(_("Checked on %(when)s by %(who)s.") % {"when": words.checked_at, "who": facts["checked_by"]}),
        _p(_("The audit trail's head hash at the time of the check:"), "small"),
        _p(facts["chain_head"] or "—", "mono"),
        _p(
            _("Submitted file: %(w)s × %(h)s %(format)s, %(size)s bytes.")
            % {"w": sub["width"], "h": sub["height"], "format": sub["format"], "size": sub["byte_size"]}
        ),
        _p(_("SHA-256 of the submitted file:"), "small"),
        _p(sub["sha256"], "mono"),
    ]
    if not words.matched:
        flow.append(_p(_("No match: this picture is not in the collection."), "verdict"))
    for answer in words.answers:
        flow += _answer(answer)
    flow += [
        Spacer(1, 10),
        _p(
            _(
                "This statement's SHA-256 is recorded in the collection's audit trail when it is issued. To check a "
                "copy of it, run: python manage.py verify_statement FILE"
            ),
            "small",
        ),
    ]
    doc.build(flow)
    return out.getvalue()
