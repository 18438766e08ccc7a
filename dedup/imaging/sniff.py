"""What a file's bytes say it is: the reason for an unreadable one, and images with something else hidden in them."""

import re
import struct
import zipfile
from typing import BinaryIO

from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.reading import CHUNK

SNIFF_BYTES = 2048
_IMAGE_MAGIC: dict[bytes, str] = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}
# Old browsers looked for markup anywhere in the first bytes of a file; PDF readers accept "%PDF-" there too.
_SNIFF_WINDOW = 1024
_MARKUP_NEAR_START = re.compile(
    rb"<(?:(?:!doctype|html|head|body|script|iframe|svg|img|object|embed|meta)[\s/>]|a\s+href\b|\?php)|%PDF-", re.I
)
# Long enough that pixel data never forms them by chance, short enough to catch a script anywhere.
_ACTIVE_ANYWHERE = re.compile(rb"<(?:script|iframe)[\s/>]", re.I)
_ACTIVE_OVERLAP = 16


def unidentified(head: bytes) -> FingerprintError:
    """Say what the file seems to be instead, from its first bytes."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[4:8] == b"ftyp":
        return FingerprintError(Failure.HEIF_UNSUPPORTED)
    if body.startswith(b"%PDF"):
        return FingerprintError(Failure.PDF_DOCUMENT)
    if body.startswith(b"<") or _looks_like_text(head):
        return FingerprintError(Failure.TEXT_DOCUMENT)
    if fmt := next((f for magic, f in _IMAGE_MAGIC.items() if head.startswith(magic)), None):
        return FingerprintError(Failure.HEADER_UNREADABLE, format=fmt)
    return FingerprintError(Failure.UNSUPPORTED_TYPE)


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not any(b < 0x09 or (0x0E <= b < 0x20 and b != 0x1B) for b in head)


def is_polyglot(fp: BinaryIO) -> bool:
    fp.seek(0)
    if _MARKUP_NEAR_START.search(fp.read(_SNIFF_WINDOW)):
        return True
    fp.seek(0)
    tail = b""
    while chunk := fp.read(CHUNK):
        if _ACTIVE_ANYWHERE.search(tail + chunk):
            return True
        tail = chunk[-_ACTIVE_OVERLAP:]
    return _holds_zip(fp)


def _holds_zip(fp: BinaryIO) -> bool:
    """A ZIP's directory at the end of the file (GIFAR and friends): unzip or Java would read it as an archive."""
    fp.seek(0)
    if not zipfile.is_zipfile(fp):
        return False
    fp.seek(0)
    try:
        with zipfile.ZipFile(fp) as archive:
            return bool(archive.infolist())  # a real central directory, not four stray bytes
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return False
