"""Every download's two risky parts in one place: CSV cells a spreadsheet would run, file names in headers."""

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from urllib.parse import quote

# A spreadsheet runs a cell that starts like a formula (OWASP "CSV injection"). The full-width forms are
# included too, in case a spreadsheet set up for Chinese or Japanese input turns them into the ASCII ones.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Sent as a plain quoted file name; anything else (quotes, backslashes, %, controls, non-ASCII) goes in
# RFC 6266's filename*, percent-encoded, with a plain fallback for old clients.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9 ._()\[\]+,=@~!#$&'^{}-]+")
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9 ._()\[\]+,=@~!#$&'^{}-]")


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: object) -> object:
    """A value as a CSV cell that no spreadsheet runs: text starting like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if text.lstrip(" ").startswith(FORMULA_START):
        return "'" + text
    return text


def csv_lines(rows: Iterable[Mapping[str, object]], *, header: Sequence[str] | None = None) -> Iterator[str]:
    """CSV text a line at a time: the header (the first row's keys unless given), then every row, all cells safe.

    The first line starts with a byte-order mark, which lets Excel read Chinese text.
    """
    writer = csv.writer(_Echo())
    columns = list(header) if header is not None else None
    if columns is not None:
        yield "\ufeff" + writer.writerow([csv_cell(name) for name in columns])
    for row in rows:
        if columns is None:
            columns = list(row)
            yield "\ufeff" + writer.writerow([csv_cell(name) for name in columns])
        yield writer.writerow([csv_cell(row.get(name)) for name in columns])


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """A Content-Disposition value that any file name is safe in, whatever quotes or line breaks it holds."""
    kind = "attachment" if attachment else "inline"
    if not filename:
        return kind
    if _PLAIN_NAME.fullmatch(filename):
        return f'{kind}; filename="{filename}"'
    fallback = _NOT_PLAIN.sub("_", filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
