"""Sidecar CSV metadata: Dublin Core columns matched to files by filename, every row reported, none dropped."""

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from collections_app.failures import Refusal, SidecarProblem, failure_text, problem
from collections_app.models import ImportedMetadata, IngestBatch, Item, SidecarRow, Source, Version
from collections_app.services import audit_record, batch_create

FILENAME_COLUMNS = ("filename", "file", "original_filename", "path")
# Column -> item field; `subject` holds several subjects separated by ";" or "|".
FIELDS = {
    "identifier": "identifier",
    "title": "title",
    "title_zh": "title_zh",
    "creator": "creator",
    "date": "date",
    "description": "description",
    "subject": "subjects",
    "rights": "rights",
}
MAX_BYTES = 20 * 1024 * 1024
FILENAME_MAX_LENGTH = SidecarRow._meta.get_field("filename").max_length


class SidecarError(Exception):
    """The CSV as a whole cannot be read; `code` and `params` say why, worded for the uploader when shown."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params

    def __str__(self) -> str:
        return failure_text(self.code, self.params)


def normalise_name(name: str) -> str:
    return name.strip().replace("\\", "/").removeprefix("./").strip("/")


def _decode(content: bytes) -> str:
    """The CSV as text: UTF-8 with or without a BOM, or UTF-16 with its BOM (Excel's "Unicode text")."""
    encoding = "utf-16" if content.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = content.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        raise SidecarError(Refusal.CSV_NOT_UTF8, line=line) from exc
    if "\x00" in text:
        # A NUL means the file is not text (often UTF-16 without its BOM); PostgreSQL could not store it either.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SidecarError(Refusal.CSV_NUL, line=line)
    return text


def _unreadable(line: int, exc: Exception) -> SidecarError:
    if isinstance(exc, csv.Error) and "field larger than field limit" in str(exc):
        return SidecarError(Refusal.CSV_VALUE_TOO_LONG, line=line, limit=csv.field_size_limit())
    return SidecarError(Refusal.CSV_UNREADABLE, line=line, detail=str(exc)[:200])


def _records(reader: csv.DictReader) -> Iterator[dict]:
    """The reader's rows; a row the csv module cannot read is a SidecarError naming the line it starts on."""
    while True:
        line = reader.reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except Exception as exc:  # next() only parses, so every failure is the CSV's
            raise _unreadable(line, exc) from exc
        yield row


def _max_length(field: str) -> int | None:
    return getattr(Item._meta.get_field(field), "max_length", None)


def row_check(raw: dict[str, str]) -> tuple[dict[str, Any], list[dict]]:
    """The item values a row sets and the problems with it (codes, see `problem`); a bad value is left out."""
    values: dict[str, Any] = {}
    problems: list[dict] = []
    for column, field in FIELDS.items():
        value = (raw.get(column) or "").strip()
        if not value:
            continue
        limit = _max_length(field)
        if limit and len(value) > limit:
            problems.append(problem(SidecarProblem.VALUE_TOO_LONG, column=column, limit=limit))
            continue
        if field == "subjects":
            values[field] = [s.strip() for s in value.replace("|", ";").split(";") if s.strip()]
        else:
            values[field] = value
    # The same check as Item.identifier's validator: a bad identifier is reported, the rest of the row applies.
    from collections_app.validators import has_control_characters

    identifier = values.get("identifier")
    if identifier and has_control_characters(identifier):
        problems.append(problem(SidecarProblem.IDENTIFIER_CONTROL))
        del values["identifier"]
    elif identifier and Item.objects.filter(identifier=identifier).exists():
        problems.append(problem(SidecarProblem.IDENTIFIER_TAKEN, value=identifier))
        del values["identifier"]
    return values, problems


def csv_parse(content: bytes) -> tuple[list[dict], list[dict]]:
    """Rows as {line, filename, data, values, problems}, and problems with the file as a whole."""
    if len(content) > MAX_BYTES:
        raise SidecarError(Refusal.CSV_TOO_LARGE)
    reader = csv.DictReader(io.StringIO(_decode(content), newline=""))
    try:
        fieldnames = reader.fieldnames
    except Exception as exc:  # reading the header only parses, as in _records
        raise _unreadable(1, exc) from exc
    header = [(name or "").strip().lower() for name in fieldnames or []]
    reader.fieldnames = header
    filename_column = next((c for c in FILENAME_COLUMNS if c in header), None)
    if filename_column is None:
        raise SidecarError(Refusal.CSV_NO_FILENAME)
    unknown = [c for c in header if c not in FIELDS and c != filename_column]
    notes = []
    if unknown:
        notes.append(problem(SidecarProblem.COLUMNS_UNUSED, names=", ".join(unknown)))
    rows, seen = [], set()
    for raw in _records(reader):
        extra = raw.pop(None, None)
        data = {k: v for k, v in raw.items() if k}
        values, problems = row_check(data)
        filename = normalise_name(data.get(filename_column) or "")
        if extra:
            problems.append(problem(SidecarProblem.EXTRA_VALUES, values=", ".join(extra)))
        if len(filename) > FILENAME_MAX_LENGTH:
            problems.append(problem(SidecarProblem.FILENAME_TOO_LONG, limit=FILENAME_MAX_LENGTH))
            filename, values = "", {}
        elif not filename:
            problems.append(problem(SidecarProblem.NO_FILENAME))
        elif filename in seen:
            problems.append(problem(SidecarProblem.DUPLICATE_ROW, name=filename))
            values = {}
        seen.add(filename)
        rows.append(
            {"line": reader.line_num, "filename": filename, "data": data, "values": values, "problems": problems}
        )
    return rows, notes


def _matching(versions: QuerySet[Version], filename: str) -> list[Version]:
    """Versions whose path or name is this filename; an exact path wins over a bare name."""
    if not filename:
        return []
    name = PurePosixPath(filename).name
    found = list(
        versions.filter(
            Q(original_path=filename) | Q(original_path__endswith=f"/{filename}") | Q(original_filename=name)
        ).select_related("item")
    )
    exact = [v for v in found if v.original_path == filename or v.original_path.endswith(f"/{filename}")]
    return exact or found


def _item_update(row: SidecarRow, version: Version, actor: Any) -> list[dict]:
    item = Item.objects.select_for_update().get(pk=version.item_id)
    values = dict(row.values)
    problems = []
    if "identifier" in values and Item.objects.filter(identifier=values["identifier"]).exclude(pk=item.pk).exists():
        problems.append(problem(SidecarProblem.IDENTIFIER_TAKEN, value=values["identifier"]))
        del values["identifier"]
    before = {name: getattr(item, name) for name in values}
    for name, value in values.items():
        setattr(item, name, value)
    item.provenance = {**item.provenance, **{name: {"version": version.pk, "sidecar_row": row.pk} for name in values}}
    item.save()
    ImportedMetadata.objects.update_or_create(
        version=version, origin=ImportedMetadata.Origin.SIDECAR, defaults={"data": row.data}
    )
    audit_record(
        actor=actor, action="item.sidecar_import", target=item, before=before, after={**values, "line": row.line}
    )
    return problems


@transaction.atomic
def sidecar_row_apply(*, row_id: int, versions: QuerySet[Version], actor: Any = None) -> SidecarRow:
    """Fill in the items of the versions this row names; safe to repeat (a version is filled in once)."""
    row = SidecarRow.objects.select_for_update().get(pk=row_id)
    if not row.values or not row.filename:
        return row
    matches = [v for v in _matching(versions, row.filename) if v.pk not in row.applied_to]
    if len(matches) > 1 and not row.applied_to:
        note = problem(SidecarProblem.AMBIGUOUS_NAME, n=len(matches), name=row.filename)
        if note not in row.problems:
            row.problems = [*row.problems, note]
            row.save(update_fields=["problems"])
        return row
    for version in matches:
        row.problems = _distinct([*row.problems, *_item_update(row, version, actor)])
        row.applied_to = [*row.applied_to, version.pk]
    row.save(update_fields=["problems", "applied_to"])
    return row


def _distinct(problems: list) -> list:
    """The problems in order, each once (a row applied to two versions may find one problem twice)."""
    kept: list = []
    for found in problems:
        if found not in kept:
            kept.append(found)
    return kept


def sidecar_rows_create(*, batch: IngestBatch, rows: Iterable[dict], notes: Iterable[dict] = ()) -> list[SidecarRow]:
    created = [SidecarRow(batch=batch, line=1, problems=[note]) for note in notes]
    created += [SidecarRow(batch=batch, **row) for row in rows]
    return SidecarRow.objects.bulk_create(created)


def batch_sidecar_attach(*, batch: IngestBatch, content: bytes, actor: Any = None) -> list[SidecarRow]:
    """Keep every row on the batch and fill in the files already received; later files are filled in on arrival."""
    rows, notes = csv_parse(content)
    with transaction.atomic():
        IngestBatch.objects.select_for_update().get(pk=batch.pk)  # serialises with files arriving at once
        created = sidecar_rows_create(batch=batch, rows=rows, notes=notes)
    return [sidecar_row_apply(row_id=row.pk, versions=batch.versions.all(), actor=actor) for row in created]


def version_sidecar_apply(*, version: Version, actor: Any = None) -> None:
    """A file just arrived in a batch: apply the batch's rows that name it."""
    if version.batch_id is None:
        return
    with transaction.atomic():
        IngestBatch.objects.select_for_update().get(pk=version.batch_id)
        names = {normalise_name(version.original_path), version.original_filename}
        names |= {"/".join(version.original_path.split("/")[n:]) for n in range(version.original_path.count("/") + 1)}
        ids = list(
            SidecarRow.objects.filter(batch_id=version.batch_id, filename__in=names).values_list("pk", flat=True)
        )
    for row_id in ids:
        sidecar_row_apply(row_id=row_id, versions=Version.objects.filter(pk=version.pk), actor=actor)


def source_csv_import(
    *, source: Source, content: bytes, label: str = "", actor: Any = None
) -> tuple[IngestBatch, list[SidecarRow]]:
    """`import_csv`: the rows, kept on a new batch, fill in items of versions already stored from `source`.

    A CSV that cannot be read raises SidecarError before anything is stored, the batch included.
    """
    rows, notes = csv_parse(content)
    batch = batch_create(source=source, label=label, created_by=actor, channel=IngestBatch.Channel.CATALOGUE_CSV)
    created = sidecar_rows_create(batch=batch, rows=rows, notes=notes)
    versions = Version.objects.filter(source=source)
    return batch, [sidecar_row_apply(row_id=row.pk, versions=versions, actor=actor) for row in created]
