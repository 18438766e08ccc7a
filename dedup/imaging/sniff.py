"""What a file's bytes say it is: the reason for an unreadable one, and images with something else hidden in them."""

import heapq
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
    b"\x00\x00\x00\x0cjP  \r\n\x87\n": "JPEG2000",
    b"\xffO\xffQ": "JPEG2000",  # a bare codestream (.j2k)
}
# ISO base media files: the brands of still pictures; any other brand is a video or a sound recording.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# PBM, PGM, PPM (P1-P6 and the width and height, comments allowed), PAM (P7) and PFM (PF, Pf).
_NETPBM = re.compile(rb"P[1-6](?:\s+|#[^\n]*\n)+\d+\s+\d+|P7\s|P[Ff]\s+\d+\s+\d+")
# Old browsers looked for markup anywhere in the first bytes of a file; PDF readers accept "%PDF-" there too.
_SNIFF_WINDOW = 1024
_MARKUP_NEAR_START = re.compile(
    rb"<(?:(?:!doctype|html|head|body|script|iframe|svg|img|object|embed|meta)[\s/>]|a\s+href\b|\?php)|%PDF-", re.I
)
_MARKUP_NOT_PDF = re.compile(_MARKUP_NEAR_START.pattern.removesuffix(rb"|%PDF-"), re.I)
# Long enough that pixel data never forms them by chance, short enough to catch a script anywhere.
_ACTIVE_ANYWHERE = re.compile(rb"<(?:script|iframe)[\s/>]", re.I)
_ACTIVE_OVERLAP = 16


def unidentified(head: bytes) -> FingerprintError:
    """Say what the file seems to be instead, from its first bytes."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS or brand in _AVIF_BRANDS:
            return FingerprintError(Failure.HEADER_UNREADABLE, format="AVIF" if brand in _AVIF_BRANDS else "HEIF")
        return FingerprintError(Failure.VIDEO)
    if _NETPBM.match(head):
        return FingerprintError(Failure.NETPBM)
    if body.startswith(b"%PDF"):
        return FingerprintError(Failure.PDF_DOCUMENT)
    if body.startswith(b"<") or _looks_like_text(head):
        return FingerprintError(Failure.TEXT_DOCUMENT)
    if fmt := next((f for magic, f in _IMAGE_MAGIC.items() if head.startswith(magic)), None):
        return FingerprintError(Failure.HEADER_UNREADABLE, format=fmt)
    return FingerprintError(Failure.UNSUPPORTED_TYPE)


def is_pdf_polyglot(fp: BinaryIO) -> bool:
    """Whether a PDF also carries a web page near its start or a ZIP archive (a PDF may begin "%PDF-" by rule)."""
    fp.seek(0)
    found = bool(_MARKUP_NOT_PDF.search(fp.read(_SNIFF_WINDOW))) or _holds_zip(fp)
    fp.seek(0)
    return found


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not any(b < 0x09 or (0x0E <= b < 0x20 and b != 0x1B) for b in head)


def is_polyglot(fp: BinaryIO) -> bool:
    """Whether the image also carries a web page, a script or a ZIP archive, or parses as a script itself."""
    fp.seek(0)
    if _MARKUP_NEAR_START.search(fp.read(_SNIFF_WINDOW)):
        return True
    fp.seek(0)
    tail = b""
    script = _ScriptReading()
    while chunk := fp.read(CHUNK):
        if _ACTIVE_ANYWHERE.search(tail + chunk):
            return True
        tail = chunk[-_ACTIVE_OVERLAP:]
        script.feed(chunk)
    return script.runs() or _holds_zip(fp)


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


# --- a script made of the image's own bytes ---------------------------------------------------------------
# A browser runs a file as a classic script only if all of it parses, so the binary must hide in comments,
# strings, templates or regular expressions from the first byte to the last: GIF89a/*...*/=alert(1)// (the
# width bytes open a comment), or a JPEG whose first segment is 0x2F2A = 12074 bytes long. The reading below is
# a generous superset of what a browser accepts as ASCII-compatible text (UTF-8, Latin-1, windows-1252): any
# order of tokens, and every meaning of an ambiguous "/", "-->" or U+2028 is followed. An ordinary image stops
# being script text within its first bytes; a file that is script text to its end is refused.
_CODE, _BLOCK, _LINE, _SQ, _DQ, _TPL, _REGEX, _CLASS = range(8)
# Where the reading is, what it is in, and the brace depth inside each open template's ${...}.
_State = tuple[int, int, tuple[int, ...]]
# Outside comments and literals a script is tabs, line breaks and printable text; any byte from 0x80 may be a
# letter in some encoding. NUL, the other C0 controls and DEL are syntax errors in every one.
_TEXT = bytes(range(0x09, 0x0E)) + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_LOOKAHEAD = 4  # the longest token decided here, "<!--"
_MAX_TEMPLATE_DEPTH = 8
_MAX_WORK = 50_000  # tokens read: an image stops being script text long before; this much script is refused
_FEED = 64 * 1024


def _text_class(excluded: bytes) -> bytes:
    return b"[" + b"".join(re.escape(bytes([c])) for c in _TEXT if c not in excluded) + b"]"


# What a state skips before the next byte that matters. Lookaheads fail at the end of the buffer, so a token
# split across two reads is left for the next.
_DASH_LT = rb"|-(?=[^-]|-[^>])|<(?=[^!]|![^-]|!-[^-])"
_RUNS = {
    _CODE: re.compile(b"(?:" + _text_class(b"/'\"`<-") + b"++" + _DASH_LT + b")*+"),
    _SQ: re.compile(rb"(?:[^'\\\n\r]++|\\(?:\r\n|\r(?=[^\n])|[^\r]))*+"),  # a backslash may continue the line
    _DQ: re.compile(rb'(?:[^"\\\n\r]++|\\(?:\r\n|\r(?=[^\n])|[^\r]))*+'),
    _TPL: re.compile(rb"(?:[^`\\$]++|\\[\s\S]|\$(?=[^{]))*+"),
    _REGEX: re.compile(rb"(?:[^/\\\[\n\r]++|\\[^\n\r])*+"),
    _CLASS: re.compile(rb"(?:[^\]\\\n\r]++|\\[^\n\r])*+"),
}
# Inside a template's ${...} braces are counted, so they stop the run.
_CODE_IN_TEMPLATE = re.compile(b"(?:" + _text_class(b"/'\"`<-{}") + b"++" + _DASH_LT + b")*+")
_LINE_END = re.compile(rb"[\n\r]|\xe2\x80[\xa8\xa9]")  # U+2028 and U+2029 end a line in UTF-8 only
_QUOTES = {0x27: _SQ, 0x22: _DQ, 0x60: _TPL}
_IS_TEXT = [c in _TEXT for c in range(256)]


def _code(pos: int, stack: tuple[int, ...], data: bytes) -> list[_State]:
    b = data[pos]
    if not _IS_TEXT[b]:
        return []
    if b == 0x2F:  # "/": a comment, or division or a regular expression (both are followed)
        following = data[pos + 1 : pos + 2]
        if following in (b"*", b"/"):
            return [(pos + 2, _BLOCK if following == b"*" else _LINE, stack)]
        return [(pos + 1, _CODE, stack), (pos + 1, _REGEX, stack)]
    if b in _QUOTES:
        return [(pos + 1, _QUOTES[b], stack)]
    if data.startswith(b"<!--", pos):
        return [(pos + 4, _LINE, stack)]
    if data.startswith(b"-->", pos):  # a comment at the start of a line, else "--" and ">"
        return [(pos + 3, _LINE, stack), (pos + 3, _CODE, stack)]
    if stack and b == 0x7B:  # {
        return [(pos + 1, _CODE, (*stack[:-1], stack[-1] + 1))]
    if stack and b == 0x7D:  # }: closes a brace, or the ${ and the template text goes on
        if stack[-1] == 0:
            return [(pos + 1, _TPL, stack[:-1])]
        return [(pos + 1, _CODE, (*stack[:-1], stack[-1] - 1))]
    return [(pos + 1, _CODE, stack)]


def _literal(pos: int, mode: int, stack: tuple[int, ...], data: bytes) -> list[_State]:
    """The byte ending a run in a string, a template or a regular expression."""
    b = data[pos]
    if b in b"\n\r":  # only a template may hold a line break unescaped
        return []
    if b == 0x5C:  # a backslash the run left: the buffer or the line ends after it
        return [] if mode in (_REGEX, _CLASS) else [(pos + 2, mode, stack)]
    if mode == _TPL and b == 0x24:  # "${"
        return [(pos + 2, _CODE, (*stack, 0))] if len(stack) < _MAX_TEMPLATE_DEPTH else []
    if mode in (_REGEX, _CLASS):
        return [(pos + 1, {0x2F: _CODE, 0x5B: _CLASS, 0x5D: _REGEX}[b], stack)]
    return [(pos + 1, _CODE, stack)]  # the closing quote or backtick


def _next(state: _State, data: bytes, limit: int) -> list[_State]:
    """The states after the next run and token; a run reaching `limit` waits there for more bytes."""
    pos, mode, stack = state
    if mode == _BLOCK:
        end = data.find(b"*/", pos)
        if end >= 0:
            return [(end + 2, _CODE, stack)]
        return [(len(data) - 1, _BLOCK, stack)] if limit < len(data) else []  # a final "*" is read again
    if mode == _LINE:
        found = _LINE_END.search(data, pos)
        if found is None:
            return [(max(limit, len(data) - 2), _LINE, stack)]  # a split U+2028 is read again
        after = [(found.end(), _CODE, stack)]
        return after if found.group() in (b"\n", b"\r") else [*after, (found.end(), _LINE, stack)]
    run = _CODE_IN_TEMPLATE if mode == _CODE and stack else _RUNS[mode]
    end = run.match(data, pos).end()
    if end >= limit:
        return [(end, mode, stack)]
    if mode == _CODE:
        return _code(end, stack, data)
    return _literal(end, mode, stack, data)


class _ScriptReading:
    """One reading of the file's bytes as script text, fed chunk by chunk; it stops once the bytes cannot be."""

    def __init__(self) -> None:
        self._data = b""
        self._states: set[_State] = {(0, _CODE, ())}
        self._work = 0

    def feed(self, chunk: bytes) -> None:
        for start in range(0, len(chunk), _FEED):
            if not self._states or self._work > _MAX_WORK:
                return
            self._read(chunk[start : start + _FEED], final=False)

    def runs(self) -> bool:
        """Would a browser's script parser accept every byte (or did the script text go on too long to doubt)?"""
        if self._states and self._work <= _MAX_WORK:
            self._read(b"", final=True)
        if self._work > _MAX_WORK:
            return True
        return any(mode in (_CODE, _LINE) and not stack for _pos, mode, stack in self._states)

    def _read(self, more: bytes, *, final: bool) -> None:
        data = self._data + more
        limit = len(data) if final else len(data) - _LOOKAHEAD
        queue, seen, waiting = list(self._states), set(self._states), set()
        heapq.heapify(queue)
        while queue:
            state = heapq.heappop(queue)
            if state[0] >= limit:
                waiting.add(state)
                continue
            self._work += 1
            if self._work > _MAX_WORK:
                return
            for after in _next(state, data, limit):
                if after not in seen:
                    seen.add(after)
                    heapq.heappush(queue, after)
        start = min((pos for pos, _mode, _stack in waiting), default=len(data))
        self._data = data[start:]
        self._states = {(pos - start, mode, stack) for pos, mode, stack in waiting}
