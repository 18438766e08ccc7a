"""The one CSV writer and the one Content-Disposition helper that every download uses."""

import csv
import io
import re
from pathlib import Path

import pytest

from collections_app.exports import content_disposition, csv_cell, csv_lines

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("api", "collections_app", "dedup", "records", "reports", "config")


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "  =1", "＝1", "＋1", "－1", "＠A1"]
)
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"),
    [(-3, -3), (2.5, 2.5), (True, True), (None, ""), ("harbour = sea", "harbour = sea"), (["=a", "b"], "'=a; b")],
)
def test_numbers_stay_numbers_and_lists_become_one_cell_checked_as_a_whole(value, cell):
    assert csv_cell(value) == cell


def test_the_csv_starts_with_a_byte_order_mark_and_the_header_and_reads_back_cell_for_cell():
    rows = [{"a": "=x", "b": 1}, {"a": "中文", "b": None}]
    text = "".join(csv_lines(rows))
    assert text.startswith("\ufeffa,b\r\n")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [["a", "b"], ["'=x", "1"], ["中文", ""]]


def test_a_given_header_is_written_even_without_rows_and_missing_values_are_empty():
    assert "".join(csv_lines([], header=["id", "=reason"])) == "\ufeffid,'=reason\r\n"
    assert "".join(csv_lines([{"id": 1}], header=["id", "reason"])).endswith("1,\r\n")


def test_a_plain_file_name_is_sent_quoted():
    assert content_disposition("audit-HKRS-1.csv") == 'attachment; filename="audit-HKRS-1.csv"'
    assert content_disposition("harbour.jpg", attachment=False) == 'inline; filename="harbour.jpg"'
    assert content_disposition("") == "attachment"


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ('a"b\r\nSet-Cookie: x=1.csv', "a%22b%0D%0ASet-Cookie%3A%20x%3D1.csv"),
        ("a\\b;c%41.csv", "a%5Cb%3Bc%2541.csv"),
        ("香港.jpg", "%E9%A6%99%E6%B8%AF.jpg"),
    ],
)
def test_any_other_file_name_goes_percent_encoded_in_filename_star_with_a_plain_fallback(name, encoded):
    value = content_disposition(name)
    assert value.endswith(f"; filename*=UTF-8''{encoded}")
    fallback = re.fullmatch(r'attachment; filename="([^"\\]*)"; filename\*=.*', value)
    assert fallback and fallback.group(1).isascii() and fallback.group(1).isprintable()


def _project_sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def test_every_download_sets_content_disposition_and_writes_csv_through_the_one_helper():
    raw_headers = [
        f"{path}:{n}"
        for path, text in _project_sources()
        for n, line in enumerate(text.splitlines(), 1)
        if '["Content-Disposition"] =' in line and "content_disposition(" not in line
    ]
    own_writers = [
        str(path)
        for path, text in _project_sources()
        if re.search(r"csv\.(writer|DictWriter)\(", text) and str(path) != "collections_app/exports.py"
    ]
    assert (raw_headers, own_writers) == ([], [])
