"""Sidecar CSVs: matched by filename, every row reported, bad values left out and named, nothing dropped."""

import io

import pytest
from django.core.management import CommandError, call_command

from collections_app.failures import SidecarProblem
from collections_app.models import AuditEvent, ImportedMetadata, IngestBatch, SidecarRow, Version
from collections_app.services import batch_create, source_get_or_create, version_ingest
from collections_app.sidecar import SidecarError, batch_sidecar_attach, csv_parse
from collections_app.uploads import batch_files_upload
from tests.factories import ItemFactory
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _stored(path: str, seed: int, batch=None):
    source = source_get_or_create(name="Photo Unit")
    outcome = version_ingest(
        fileobj=io.BytesIO(encode(scene(seed))),
        original_filename=path.rsplit("/", 1)[-1],
        original_path=path,
        source=source,
        batch=batch,
    )
    return outcome.version


def test_rows_report_unmatched_files_bad_values_and_duplicates():
    source = source_get_or_create(name="Photo Unit")
    batch = batch_create(source=source)
    _stored("gala/a.jpg", 1, batch)
    ItemFactory(identifier="TAKEN")
    csv = (
        "Filename,Title,identifier,date,notes\n"
        "a.jpg,Gala," + "x" * 250 + ",1962,kept\n"
        "a.jpg,Again,,,\n"
        "missing.jpg,Nobody,,,\n"
        ",No name,,,\n"
        "b.jpg,B,TAKEN,,,extra\n"
    )
    rows = {row.line: row for row in batch_sidecar_attach(batch=batch, content=csv.encode())}
    # The unused column is named, and kept in each row's data.
    assert rows[1].problems == [{"code": SidecarProblem.COLUMNS_UNUSED, "params": {"names": "notes"}}]
    assert rows[2].outcome == "partly" and "identifier is longer" in rows[2].problem_texts[0]
    too_long = {"code": SidecarProblem.VALUE_TOO_LONG, "params": {"column": "identifier", "limit": 200}}
    assert rows[2].problems[0] == too_long
    assert rows[3].outcome == "refused" and "Another row" in rows[3].problem_texts[0]
    assert rows[4].outcome == "unmatched"
    assert rows[5].outcome == "unmatched" and "No filename" in rows[5].problem_texts[0]
    assert [p["code"] for p in rows[6].problems] == [SidecarProblem.IDENTIFIER_TAKEN, SidecarProblem.EXTRA_VALUES]
    assert "TAKEN is already used" in rows[6].problem_texts[0] and "more values" in rows[6].problem_texts[1]
    item = Version.objects.get(original_path="gala/a.jpg").item
    assert (item.title, item.date) == ("Gala", "1962")
    assert item.provenance["title"]["sidecar_row"] == rows[2].pk
    raw = ImportedMetadata.objects.get(origin="sidecar").data
    assert raw["notes"] == "kept" and raw["identifier"].startswith("xxx")
    assert AuditEvent.objects.filter(action="item.sidecar_import").count() == 1


def test_rows_arriving_before_their_files_are_applied_when_the_files_come():
    source = source_get_or_create(name="Photo Unit")
    batch = batch_create(source=source)
    batch_sidecar_attach(batch=batch, content=b"filename,creator\nlater.jpg,Lee Wing\n")
    batch_files_upload(batch=batch, files=[(io.BytesIO(encode(scene(3))), "later.jpg", 100)])
    assert Version.objects.get().item.creator == "Lee Wing"
    assert SidecarRow.objects.get().outcome == "applied"


def test_csv_without_filename_column_or_in_a_legacy_encoding_is_refused_whole():
    with pytest.raises(SidecarError, match="filename"):
        csv_parse(b"title\nA\n")
    with pytest.raises(SidecarError, match="UTF-8"):
        csv_parse("filename,title\na.jpg,維港\n".encode("big5"))


def test_import_csv_command_fills_in_a_sources_stored_files(tmp_path, capsys):
    _stored("2019/a.jpg", 1)
    _stored("2019/b.jpg", 2)
    sheet = tmp_path / "meta.csv"
    sheet.write_text("filename,title_zh,subject\n2019/a.jpg,維港,harbour|night\nzzz.jpg,,\n", encoding="utf-8")
    call_command("import_csv", str(sheet), source="Photo Unit")
    out = capsys.readouterr().out
    assert "2 rows: 1 applied" in out and "line 3 zzz.jpg: matches no stored file" in out
    item = Version.objects.get(original_path="2019/a.jpg").item
    assert (item.title_zh, item.subjects) == ("維港", ["harbour", "night"])
    with pytest.raises(CommandError):
        call_command("import_csv", str(sheet), source="Nobody")


def test_a_value_over_the_csv_field_limit_refuses_the_csv_with_the_line_it_starts_on():
    csv = b'filename,title\na.jpg,Gala\nb.jpg,"' + b"x\n" * 70_000 + b'"\n'
    with pytest.raises(SidecarError, match=r"^Line 3 of the CSV has a value longer than 131072 characters"):
        csv_parse(csv)


def test_a_nul_character_or_bytes_that_are_not_utf8_refuse_the_csv_with_their_line():
    with pytest.raises(SidecarError, match=r"^Line 2 of the CSV holds a NUL character"):
        csv_parse(b"filename,title\na.jpg,Ga\x00la\n")
    with pytest.raises(SidecarError, match=r"^Line 3 of the CSV is not UTF-8 text"):
        csv_parse("filename,title\na.jpg,Gala\nb.jpg,維港\n".encode()[:-4] + b"\xff\n")
    with pytest.raises(SidecarError, match=r"^Line 1 of the CSV needs a column named filename"):
        csv_parse(b"title\nGala\n")


def test_a_utf16_csv_with_its_byte_order_mark_is_read():
    rows, _notes = csv_parse("filename,title_zh\na.jpg,維港\n".encode("utf-16"))
    assert rows[0]["values"] == {"title_zh": "維港"}


def test_a_filename_longer_than_a_row_can_hold_is_reported_on_its_row_not_a_database_error():
    batch = batch_create(source=source_get_or_create(name="Photo Unit"))
    rows = batch_sidecar_attach(batch=batch, content=b"filename,title\n" + b"n" * 1500 + b".jpg,Gala\nb.jpg,B\n")
    assert [row.filename for row in rows] == ["", "b.jpg"]
    assert rows[0].problem_texts == ["The filename is longer than 1000 characters, so it matches no file."]
    assert rows[0].outcome == "refused" and rows[0].data["filename"].startswith("nnn")


def test_import_csv_refuses_an_unreadable_csv_with_its_line_and_stores_nothing(tmp_path):
    _stored("2019/a.jpg", 1)
    batches = IngestBatch.objects.count()
    sheet = tmp_path / "meta.csv"
    sheet.write_bytes(b'filename,title\n2019/a.jpg,"' + b"x" * 200_000 + b'"\n')
    with pytest.raises(CommandError, match="Line 2 of the CSV has a value longer than 131072 characters"):
        call_command("import_csv", str(sheet), source="Photo Unit")
    assert IngestBatch.objects.count() == batches and not SidecarRow.objects.exists()
    assert Version.objects.get().item.title == "a"


def test_a_rows_problems_are_kept_as_codes_and_a_row_from_before_codes_is_shown_as_written():
    batch = batch_create(source=source_get_or_create(name="Photo Unit"))
    (row,) = batch_sidecar_attach(batch=batch, content=b"filename,title\n,Gala\n")
    old = SidecarRow.objects.create(batch=batch, line=9, problems=["A problem recorded in words before codes."])
    assert SidecarRow.objects.get(pk=row.pk).problems == [{"code": SidecarProblem.NO_FILENAME, "params": {}}]
    assert row.problem_texts == ["No filename: the row matches no file."]
    assert old.problem_texts == ["A problem recorded in words before codes."]
