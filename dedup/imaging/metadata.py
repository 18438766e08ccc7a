"""Embedded EXIF, IPTC and XMP metadata, decoded to JSON-safe values with a normalised summary."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from numbers import Rational
from typing import Any
from xml.etree import ElementTree

from PIL import ExifTags, Image, IptcImagePlugin

# Text encodings tried, in order, when a field does not declare one. UTF-8 is strict enough to rule
# itself out; Big5 comes before GB18030 because the collections are mostly Traditional Chinese,
# and GB18030 accepts almost any byte string, so it has to come late.
FALLBACK_ENCODINGS: tuple[str, ...] = ("utf-8", "big5", "gb18030", "cp1252")

_MAX_BINARY_BYTES = 256  # longer binary values are replaced by a size note
_MAX_LIST_ITEMS = 64  # strip offsets and similar tables say nothing about the picture
_MAX_TEXT_CHARS = 8192  # XMP can embed base64 thumbnails; keep a note instead
_MAX_XMP_BYTES = 4 * 1024 * 1024

_TAG_NAMES: dict[int, str] = {int(k): v for k, v in ExifTags.TAGS.items()}
_GPS_NAMES: dict[int, str] = {int(k): v for k, v in ExifTags.GPSTAGS.items()}
_POINTER_TAGS = frozenset({0x8769, 0x8825, 0xA005})  # ExifIFD, GPS IFD and Interop offsets
_MAKER_NOTE = 0x927C
_USER_COMMENT = 0x9286
_XP_TAGS = frozenset({0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})  # Windows XP*: UTF-16LE
# Parsed in their own sections (XMP, IPTC) or pure binary (Photoshop resources, ICC profile).
_ELSEWHERE_TAGS = frozenset({0x02BC, 0x83BB, 0x8649, 0x8773})

_IPTC_NAMES: dict[tuple[int, int], str] = {
    (1, 0): "EnvelopeRecordVersion",
    (1, 90): "CodedCharacterSet",
    (2, 0): "ApplicationRecordVersion",
    (2, 5): "ObjectName",
    (2, 15): "Category",
    (2, 20): "SupplementalCategories",
    (2, 25): "Keywords",
    (2, 40): "SpecialInstructions",
    (2, 55): "DateCreated",
    (2, 60): "TimeCreated",
    (2, 62): "DigitalCreationDate",
    (2, 63): "DigitalCreationTime",
    (2, 65): "OriginatingProgram",
    (2, 80): "By-line",
    (2, 85): "By-lineTitle",
    (2, 90): "City",
    (2, 92): "Sub-location",
    (2, 95): "Province-State",
    (2, 100): "Country-PrimaryLocationCode",
    (2, 101): "Country-PrimaryLocationName",
    (2, 103): "OriginalTransmissionReference",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 118): "Contact",
    (2, 120): "Caption-Abstract",
    (2, 122): "Writer-Editor",
}
_IPTC_REPEATABLE = frozenset({(2, 20), (2, 25), (2, 80), (2, 85), (2, 118), (2, 122)})
_IPTC_BINARY = frozenset({(1, 0), (1, 90), (2, 0)})
# ISO 2022 escape sequences seen in IPTC 1:90.
_IPTC_CHARSETS: dict[bytes, str] = {b"\x1b%G": "utf-8", b"\x1b-A": "latin-1", b"\x1b.A": "latin-1"}

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XMP_PREFIXES: dict[str, str] = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://ns.adobe.com/lightroom/1.0/": "lr",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#": "stRef",
}
# CJK ideographs and punctuation, kana, Hangul, fullwidth forms, general punctuation.
_COMMON_RANGES = ((0x4E00, 0x9FFF), (0x3000, 0x30FF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x2000, 0x206F))
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$")


def extract_metadata(image: Image.Image) -> dict[str, Any]:
    """Everything embedded in the file, JSON-safe; a section that cannot be read becomes a warning."""
    problems: list[str] = []
    exif = _section("EXIF", _exif_dict, image, problems)
    iptc = _section("IPTC", _iptc_dict, image, problems)
    xmp = _section("XMP", _xmp_dict, image, problems)
    return {"exif": exif, "iptc": iptc, "xmp": xmp, "summary": summarise(exif, iptc, xmp), "warnings": problems}


def _section(
    label: str, reader: Callable[[Image.Image], dict[str, Any]], image: Image.Image, problems: list[str]
) -> dict[str, Any]:
    # Metadata is secondary: broken metadata must not cost the picture its fingerprint.
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = reader(image)
        problems.extend(f"{label}: {w.message}" for w in caught)
        return result
    except Exception as exc:  # noqa: BLE001 - any parser failure is reported, not raised
        problems.append(f"{label} could not be read: {exc or type(exc).__name__}")
        return {}


# --- text ----------------------------------------------------------------------------


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Bytes to text: the declared charset if it fits, else the first fallback encoding that does."""
    data = data.rstrip(b"\x00")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace").rstrip("\x00")
    for encoding in ((charset,) if charset else ()) + FALLBACK_ENCODINGS:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _looks_textual(data: bytes) -> bool:
    body = data.rstrip(b"\x00")
    return bool(body) and all(b >= 0x20 or b in (0x09, 0x0A, 0x0D) for b in body)


def _jsonable(value: Any) -> Any:
    """Pillow's values (IFDRational, bytes, tuples) as plain JSON types; big blobs become size notes."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _clean(value) if len(value) <= _MAX_TEXT_CHARS else {"omitted_chars": len(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Rational):
        return float(value.numerator) / value.denominator if value.denominator else None
    if isinstance(value, (bytes, bytearray)):
        return _binary(bytes(value))
    if isinstance(value, (tuple, list)):
        if len(value) > _MAX_LIST_ITEMS:
            return {"omitted_values": len(value)}
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _binary(data: bytes) -> Any:
    if len(data) > _MAX_BINARY_BYTES:
        return {"omitted_bytes": len(data)}
    if _looks_textual(data):
        return _clean(decode_text(data))
    return data.hex()


# --- EXIF ----------------------------------------------------------------------------


def _exif_dict(image: Image.Image) -> dict[str, Any]:
    exif = image.getexif()
    if not exif:
        return {}
    endian = exif.endian or "<"
    result = _ifd_dict(exif, _TAG_NAMES, endian)
    result.update(_ifd_dict(exif.get_ifd(ExifTags.IFD.Exif), _TAG_NAMES, endian))
    if gps := exif.get_ifd(ExifTags.IFD.GPSInfo):
        result["GPSInfo"] = _ifd_dict(gps, _GPS_NAMES, endian)
    return result


def _ifd_dict(ifd: Any, names: dict[int, str], endian: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for tag, value in ifd.items():
        if tag in _POINTER_TAGS:
            continue
        result[names.get(tag, f"0x{tag:04x}")] = _exif_value(tag, value, endian)
    return result


def _exif_value(tag: int, value: Any, endian: str) -> Any:
    if tag == _MAKER_NOTE or tag in _ELSEWHERE_TAGS:
        return {"omitted_bytes": len(value) if isinstance(value, (bytes, tuple, str)) else 0}
    if tag in _XP_TAGS:
        raw = bytes(value) if isinstance(value, (tuple, list)) else value
        return _clean(raw.decode("utf-16-le", "replace")) if isinstance(raw, bytes) else _jsonable(raw)
    if tag == _USER_COMMENT and isinstance(value, bytes):
        return user_comment_text(value, endian)
    if isinstance(value, str):
        # Pillow reads ASCII fields as Latin-1, which maps bytes 1:1, so the original bytes are
        # recoverable; cameras and tools often put UTF-8 or Big5 there despite the spec.
        return _jsonable(decode_text(value.encode("latin-1", "replace")))
    return _jsonable(value)


def user_comment_text(value: bytes, endian: str = "<") -> str:
    """EXIF UserComment: an 8-byte character-code prefix, then the text."""
    prefix, body = value[:8], value[8:]
    if prefix == b"UNICODE\x00":
        return _clean(_utf16_text(body, endian))
    if prefix == b"JIS\x00\x00\x00\x00\x00":
        return _clean(decode_text(body, "iso2022_jp"))
    if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        return _clean(decode_text(body))
    return _clean(decode_text(value))


def _utf16_text(body: bytes, endian: str) -> str:
    """UCS-2 text that should follow the EXIF byte order but, from Windows tools, is often little-endian."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body.decode("utf-16", "replace")
    native, other = ("utf-16-be", "utf-16-le") if endian == ">" else ("utf-16-le", "utf-16-be")
    texts = [body.decode(codec, "replace") for codec in (native, other)]
    return max(texts, key=_plausibility)  # max() keeps the first on a tie: the declared order


def _plausibility(text: str) -> int:
    """How many characters fall in common scripts; ASCII read in the wrong byte order lands on U+xx00."""
    return sum(
        1 for ch in text if (cp := ord(ch)) < 0x100 or (cp & 0xFF and any(lo <= cp <= hi for lo, hi in _COMMON_RANGES))
    )


# --- IPTC ----------------------------------------------------------------------------


def _iptc_dict(image: Image.Image) -> dict[str, Any]:
    info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]
    if not info:
        return {}
    raw_charset = info.get((1, 90))
    charset = _IPTC_CHARSETS.get(raw_charset) if isinstance(raw_charset, bytes) else None
    result: dict[str, Any] = {}
    for key in sorted(info):
        values = info[key] if isinstance(info[key], list) else [info[key]]
        decoded = [_iptc_value(key, v, charset) for v in values]  # type: ignore[arg-type]
        name = _IPTC_NAMES.get(key, f"{key[0]}:{key[1]}")
        result[name] = decoded if key in _IPTC_REPEATABLE or len(decoded) > 1 else decoded[0]
    return result


def _iptc_value(key: tuple[int, int], value: bytes, charset: str | None) -> Any:
    if key in _IPTC_BINARY:
        if key == (1, 90):
            return _IPTC_CHARSETS.get(value, value.hex())
        return int.from_bytes(value, "big") if len(value) <= 4 else value.hex()
    return _clean(decode_text(value, charset))


# --- XMP -----------------------------------------------------------------------------


def _xmp_dict(image: Image.Image) -> dict[str, Any]:
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if not packet:
        return {}
    return parse_xmp(packet)


def parse_xmp(packet: bytes | str | tuple[int, ...]) -> dict[str, Any]:
    """Flatten an XMP packet to {"prefix:Name": value}; refuses DOCTYPEs (entity expansion attacks)."""
    if isinstance(packet, tuple):
        packet = bytes(packet)
    if len(packet) > _MAX_XMP_BYTES:
        raise ValueError(f"XMP packet of {len(packet)} bytes is too large to parse")
    text = decode_text(packet) if isinstance(packet, bytes) else packet
    # ElementTree expands internal entities; with no DOCTYPE there are none to expand, and external
    # entities are never fetched, so refusing DOCTYPE is enough to make parsing safe.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("XMP packet declares a DOCTYPE and was ignored for safety")
    root = ElementTree.fromstring(_XML_DECLARATION.sub("", text.strip("\x00 \r\n\t")))
    rdf = root if root.tag == f"{_RDF}RDF" else root.find(f".//{_RDF}RDF")
    result: dict[str, Any] = {}
    for description in [] if rdf is None else rdf.findall(f"{_RDF}Description"):
        result.update(_xmp_struct(description))
    return result


def _qname(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = _XMP_PREFIXES.get(uri)
        return f"{prefix}:{local}" if prefix else tag
    return tag


def _xmp_struct(element: ElementTree.Element) -> dict[str, Any]:
    """Properties of an rdf:Description (attributes and child elements) or a parseType=Resource."""
    result: dict[str, Any] = {
        _qname(name): _jsonable(value)
        for name, value in element.attrib.items()
        if not name.startswith(_RDF) and name != _XML_LANG
    }
    for child in element:
        result[_qname(child.tag)] = _xmp_value(child)
    return result


def _xmp_value(element: ElementTree.Element) -> Any:
    container = next(iter(element), None)
    if container is not None and container.tag == f"{_RDF}Alt":
        return {li.get(_XML_LANG, "x-default"): _jsonable(li.text or "") for li in container}
    if container is not None and container.tag in (f"{_RDF}Seq", f"{_RDF}Bag"):
        return [_xmp_value(li) for li in container]
    if container is not None and container.tag == f"{_RDF}Description":
        return _xmp_struct(container)
    if container is not None or element.get(f"{_RDF}parseType") == "Resource":
        return _xmp_struct(element)
    if f"{_RDF}resource" in element.attrib:
        return element.attrib[f"{_RDF}resource"]
    qualifiers = [k for k in element.attrib if not k.startswith(_RDF) and k != _XML_LANG]
    if qualifiers and not (element.text or "").strip():
        return _xmp_struct(element)
    return _jsonable(element.text or "")


# --- summary -------------------------------------------------------------------------


def summarise(exif: dict[str, Any], iptc: dict[str, Any], xmp: dict[str, Any]) -> dict[str, Any]:
    """Normalised fields; XMP wins over IPTC over EXIF, as the newest and best-specified source."""
    return {
        "capture_date": _capture_date(exif, iptc, xmp),
        "camera": _camera(exif, xmp),
        "software": _first_text(exif.get("Software"), xmp.get("xmp:CreatorTool")),
        "gps": _gps(exif.get("GPSInfo")),
        "orientation": _orientation(exif.get("Orientation")),
        "title": _first_text(xmp.get("dc:title"), iptc.get("ObjectName"), exif.get("XPTitle")),
        "caption": _first_text(
            xmp.get("dc:description"),
            iptc.get("Caption-Abstract"),
            exif.get("ImageDescription"),
            exif.get("XPComment"),
            exif.get("UserComment"),
        ),
        "creator": _first_text(xmp.get("dc:creator"), iptc.get("By-line"), exif.get("Artist"), exif.get("XPAuthor")),
        "keywords": _keywords(xmp.get("dc:subject"), iptc.get("Keywords"), exif.get("XPKeywords")),
        "rights": _first_text(xmp.get("dc:rights"), iptc.get("CopyrightNotice"), exif.get("Copyright")),
    }


def _text(value: Any) -> str | None:
    """One display string from a plain value, a language alternative or a list."""
    if isinstance(value, dict):
        value = value.get("x-default", next(iter(value.values()), None))
    if isinstance(value, list):
        value = "; ".join(t for t in (_text(v) for v in value) if t)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _first_text(*candidates: Any) -> str | None:
    return next((t for t in map(_text, candidates) if t), None)


def _keywords(*sources: Any) -> list[str]:
    words: list[str] = []
    for source in sources:
        items = source if isinstance(source, list) else [source]
        for item in items:
            # XPKeywords holds one ';'-separated string.
            parts = item.split(";") if isinstance(item, str) else [_text(item) or ""]
            words.extend(p.strip() for p in parts if p.strip())
    return list(dict.fromkeys(words))


def _orientation(value: Any) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _camera(exif: dict[str, Any], xmp: dict[str, Any]) -> str | None:
    make = _first_text(exif.get("Make"), xmp.get("tiff:Make")) or ""
    model = _first_text(exif.get("Model"), xmp.get("tiff:Model")) or ""
    brand = make.split(" ")[0].lower()
    if model and brand and model.lower().startswith(brand):
        return model
    return " ".join(p for p in (make, model) if p) or None


def _capture_date(exif: dict[str, Any], iptc: dict[str, Any], xmp: dict[str, Any]) -> str | None:
    candidates: Iterable[str | None] = (
        _exif_date(exif.get("DateTimeOriginal"), exif.get("OffsetTimeOriginal")),
        _xmp_date(xmp.get("exif:DateTimeOriginal")),
        _xmp_date(xmp.get("photoshop:DateCreated")),
        _iptc_date(iptc.get("DateCreated"), iptc.get("TimeCreated")),
        _exif_date(exif.get("DateTimeDigitized"), exif.get("OffsetTimeDigitized")),
        _xmp_date(xmp.get("xmp:CreateDate")),
    )
    return next((c for c in candidates if c), None)


def _exif_date(value: Any, offset: Any = None) -> str | None:
    if not isinstance(value, str):
        return None
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d"):
        try:
            parsed = datetime.strptime(value.strip()[: len("2000:01:01 00:00:00")], pattern)
        except ValueError:
            continue
        iso = parsed.isoformat() if "%H" in pattern else parsed.date().isoformat()
        if isinstance(offset, str) and re.fullmatch(r"[+-]\d{2}:\d{2}", offset.strip()) and "%H" in pattern:
            iso += offset.strip()
        return iso
    return None


def _xmp_date(value: Any) -> str | None:
    text = _text(value)
    return text if text and _ISO_DATE.match(text) and not text.startswith("0000") else None


def _iptc_date(date: Any, time: Any) -> str | None:
    if not isinstance(date, str) or not re.fullmatch(r"\d{8}", date):
        return None
    try:
        day = datetime.strptime(date, "%Y%m%d").date().isoformat()
    except ValueError:
        return None
    match = re.fullmatch(r"(\d{2})(\d{2})(\d{2})([+-]\d{2})?(\d{2})?", time) if isinstance(time, str) else None
    if not match:
        return day
    hh, mm, ss, tz_h, tz_m = match.groups()
    return f"{day}T{hh}:{mm}:{ss}" + (f"{tz_h}:{tz_m or '00'}" if tz_h else "")


def _gps(gps: Any) -> list[float] | None:
    """(lat, lon) in decimal degrees, or None when missing or out of range."""
    if not isinstance(gps, dict):
        return None
    lat = _degrees(gps.get("GPSLatitude"), gps.get("GPSLatitudeRef"), "S")
    lon = _degrees(gps.get("GPSLongitude"), gps.get("GPSLongitudeRef"), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return [round(lat, 7), round(lon, 7)]


def _degrees(dms: Any, ref: Any, negative_ref: str) -> float | None:
    if isinstance(dms, (int, float)):
        dms = [dms]
    if not isinstance(dms, list) or not dms or not all(isinstance(v, (int, float)) for v in dms):
        return None
    value = sum(v / 60**i for i, v in enumerate(dms[:3]))
    return -value if isinstance(ref, str) and ref.strip().upper().startswith(negative_ref) else value
