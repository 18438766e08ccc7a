"""Sidecar CSVs: matched by filename, every row reported, bad values left out and named, nothing dropped."""

import io

import pytest
from django.core.management import CommandError, call_command

from collections_app.models import AuditEvent, ImportedMetadata, Item, SidecarRow, Version
from collections_app.services import batch_create, source_get_or_create, version_ingest
from collections_app.sidecar import SidecarError, batch_sidecar_attach, csv_parse
from collections_app.uploads import batch_files_upload
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
    Item.objects.create(identifier="TAKEN")
    csv = (
        "Filename,Title,identifier,date,notes\n"
        "a.jpg,Gala," + "x" * 250 + ",1962,kept\n"
        "a.jpg,Again,,,\n"
        "missing.jpg,Nobody,,,\n"
        ",No name,,,\n"
        "b.jpg,B,TAKEN,,,extra\n"
    )
    rows = {row.line: row for row in batch_sidecar_attach(batch=batch, content=csv.encode())}
    assert "notes" in rows[1].problems[0]  # the unused column is named, and kept in each row's data
    assert rows[2].outcome == "partly" and "identifier is longer" in rows[2].problems[0]
    assert rows[3].outcome == "refused" and "Another row" in rows[3].problems[0]
    assert rows[4].outcome == "unmatched"
    assert rows[5].outcome == "unmatched" and "No filename" in rows[5].problems[0]
    assert any("already used" in p for p in rows[6].problems) and any("more values" in p for p in rows[6].problems)
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
