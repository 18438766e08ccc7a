"""Simple Dublin Core for an item and its authoritative version: one mapping, written as CSV rows or XML.

Shared by records/ (a metadata file per item in BagIt packages) and reports/ (the manifest report as Dublin
Core), which may not import each other. The curated item fields map to the fifteen DCMES elements; the file
itself gives format and type.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lxml import etree

from dedup.imaging.formats import MEDIA_TYPES

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# A container for many records; DCMES has none of its own.
RECORDS_NS = "urn:x-dupfinder:dublin-core-records:1"
STILL_IMAGE = "StillImage"  # DCMI Type Vocabulary

# (element, language) in the order written; each CSV column is "dc.<element>" plus ".<language>" when given.
ELEMENTS: tuple[tuple[str, str], ...] = (
    ("identifier", ""),
    ("title", "en"),
    ("title", "zh-Hant"),
    ("description", ""),
    ("creator", ""),
    ("date", ""),
    ("subject", ""),
    ("rights", ""),
    ("format", ""),
    ("type", ""),
    ("source", ""),
)
CSV_HEADER = tuple(f"dc.{name}" + (f".{lang}" if lang else "") for name, lang in ELEMENTS)


def dc_values(row: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """The Dublin Core values of one manifest row (reports.selectors.manifest_report's keys), element by element."""
    source = row.get("source") or ""
    path = row.get("original_path") or ""
    values = {
        ("identifier", ""): [row.get("identifier")],
        ("title", "en"): [row.get("title")],
        ("title", "zh-Hant"): [row.get("title_zh")],
        ("description", ""): [row.get("description")],
        ("creator", ""): [row.get("creator")],
        ("date", ""): [row.get("date")],
        ("subject", ""): list(row.get("subjects") or []),
        ("rights", ""): [row.get("rights")],
        ("format", ""): [MEDIA_TYPES.get(row.get("format") or "", row.get("format"))],
        ("type", ""): [STILL_IMAGE],
        # Where the authoritative file came from: the source and its path there.
        ("source", ""): [f"{source}: {path}" if source and path else source or path],
    }
    return {key: [str(v) for v in found if v not in (None, "")] for key, found in values.items()}


def dc_csv_rows(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """One CSV row per record, columns CSV_HEADER; several values in one cell are joined by the CSV writer."""
    for row in rows:
        values = dc_values(row)
        yield {column: values[key] for column, key in zip(CSV_HEADER, ELEMENTS, strict=True)}


def dc_element(row: Mapping[str, Any]) -> etree._Element:
    """One record as <oai_dc:dc>, the usual XML form of simple Dublin Core."""
    record = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})
    for (name, lang), found in dc_values(row).items():
        for value in found:
            element = etree.SubElement(record, f"{{{DC_NS}}}{name}")
            element.text = xml_safe(value)
            if lang:
                element.set(XML_LANG, lang)
    return record


def dc_xml(row: Mapping[str, Any]) -> bytes:
    """A single record as a whole XML document (a BagIt package's metadata file for one item)."""
    return etree.tostring(dc_element(row), xml_declaration=True, encoding="utf-8", pretty_print=True)


def dc_xml_chunks(rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """Many records in one document, a record at a time, for a streaming download."""
    yield b'<?xml version="1.0" encoding="utf-8"?>\n'
    yield f'<records xmlns="{RECORDS_NS}" xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">\n'.encode()
    for row in rows:
        yield etree.tostring(dc_element(row), encoding="utf-8", pretty_print=True)
    yield b"</records>\n"


def xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters; they are dropped rather than refuse the whole export."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)
