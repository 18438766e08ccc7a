"""Upload into a batch, the one path for the web page and the API: files, ZIP archives checked before
extraction, and sidecar CSVs. Each file is stored by `services.version_ingest`, as `manage.py ingest` stores it."""

import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.db import transaction
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from collections_app import selectors, sidecar
from collections_app.failures import Refusal, failure_text
from collections_app.models import IngestBatch, Source, Version
from collections_app.services import batch_create, version_ingest
from dedup.imaging.errors import Failure

CHUNK = 1024 * 1024
PATH_MAX_LENGTH = Version._meta.get_field("original_path").max_length
NAME_MAX_LENGTH = Version._meta.get_field("original_filename").max_length


class ArchiveRefused(Exception):
    """A ZIP that is not extracted at all; `code` and `params` say why."""

    def __init__(self, code: Refusal, **params: Any) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params


class BatchNotYours(Exception):
    """Files go into a batch only from whoever started it, or an administrator; nothing was stored."""


class SidecarRefused(sidecar.SidecarError):
    """A sidecar CSV of the request cannot be read, so nothing was stored; `field` is where it came."""

    def __init__(self, message: str, *, field: str):
        Exception.__init__(self, message)
        self.code, self.params, self.message, self.field = "", {}, message, field

    def __str__(self) -> str:
        return self.message


@dataclass
class FileResult:
    """What became of one file offered to a batch."""

    path: str
    status: str  # created | already_ingested | refused | sidecar
    message: str
    version: Version | None = None
    rows: int = 0
    code: str = ""  # why it was refused or skipped (collections_app.failures), kept on the batch with params
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        version = self.version
        return {
            "path": self.path,
            "status": self.status,
            "message": self.message,
            "version": version.pk if version else None,
            "item": version.item_id if version else None,
            "rows": self.rows,
        }


@dataclass
class UploadResult:
    batch: IngestBatch
    files: list[FileResult] = field(default_factory=list)


def _limit_mb() -> int:
    return settings.DUPFINDER_MAX_UPLOAD_BYTES // (1024 * 1024)


def batch_check_open(*, batch: IngestBatch, user: Any) -> None:
    """BatchNotYours unless `user` may add to `batch`; the one check of the upload page, the API and the sidecar."""
    if not selectors.batch_open_to(batch=batch, user=user):
        raise BatchNotYours(
            _(
                "Batch %(batch)s was started by someone else: only they or an administrator can add files to it. "
                "Start a new upload to make a batch of your own."
            )
            % {"batch": batch.pk}
        )


def unreadable_upload_text(exc: Exception) -> str:
    """Why Django could not read an upload request at all, in words for the uploader."""
    if isinstance(exc, TooManyFilesSent):
        return _("More than %(limit)d files were sent at once; nothing was stored. Send them in smaller groups.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    if isinstance(exc, MultiPartParserError) and "header size" in str(exc):
        # Django reads at most 1024 bytes of each part's headers, which carry the file name.
        return _(
            "A file name in the upload is too long to be received (over about 900 letters, or 300 Chinese "
            "characters); nothing was stored. Rename the file and send it again."
        )
    return _("The upload could not be read (it was cut off or garbled on the way); nothing was stored. Send it again.")


def _refused(path: str, code: str, **params: Any) -> FileResult:
    return FileResult(path, "refused", failure_text(code, params), code=code, params=params)


def _name_problem(path: str) -> FileResult | None:
    """Why the catalogue cannot keep this path and name whole, or None: a shortened one would match no sidecar row."""
    name = PurePosixPath(path).name
    if len(name) > NAME_MAX_LENGTH:
        return _refused(_shown(path), Refusal.NAME_TOO_LONG, length=len(name), limit=NAME_MAX_LENGTH)
    if len(path) > PATH_MAX_LENGTH:
        return _refused(_shown(path), Refusal.PATH_TOO_LONG, length=len(path), limit=PATH_MAX_LENGTH)
    return None


def _shown(path: str) -> str:
    """A path as reported back: whole unless it is longer than the catalogue keeps."""
    return path if len(path) <= PATH_MAX_LENGTH else path[:PATH_MAX_LENGTH] + "…"


def _unsafe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def zip_check(archive: zipfile.ZipFile, compressed_size: int) -> list[zipfile.ZipInfo]:
    """The entries to extract, or ArchiveRefused before a single byte is written."""
    entries = archive.infolist()
    if len(entries) > settings.DUPFINDER_ZIP_MAX_ENTRIES:
        raise ArchiveRefused(Refusal.ZIP_TOO_MANY, n=len(entries), limit=settings.DUPFINDER_ZIP_MAX_ENTRIES)
    total = 0
    for info in entries:
        if _unsafe_name(info.filename) or stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(Refusal.ZIP_OUTSIDE, name=info.filename)
        if info.file_size > settings.DUPFINDER_ZIP_MAX_RATIO * max(info.compress_size, 1) and info.file_size > CHUNK:
            raise ArchiveRefused(
                Refusal.ZIP_BOMB, name=info.filename, ratio=info.file_size // max(info.compress_size, 1)
            )
        total += info.file_size
    if total > settings.DUPFINDER_ZIP_MAX_TOTAL_BYTES or total > settings.DUPFINDER_ZIP_MAX_RATIO * max(
        compressed_size, 1
    ):
        raise ArchiveRefused(Refusal.ZIP_TOO_BIG, mb=total // (1024 * 1024))
    return [info for info in entries if not info.is_dir()]


def _copy_bounded(source: IO[bytes], limit: int) -> IO[bytes] | None:
    """Copy into a temporary file; None if more than `limit` bytes come out (a header may lie)."""
    target = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        if written > limit:
            target.close()
            return None
        target.write(chunk)
    target.seek(0)
    return target


def _file_receive(*, fileobj: IO[bytes], path: str, size: int, batch: IngestBatch, uploader: Any) -> FileResult:
    if size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
        return _refused(path, Failure.FILE_TOO_LARGE, limit=_limit_mb())
    if path.lower().endswith(".csv"):
        try:
            rows = sidecar.batch_sidecar_attach(batch=batch, content=fileobj.read(), actor=uploader)
        except sidecar.SidecarError as exc:
            return _refused(path, exc.code, **exc.params)
        return FileResult(path, "sidecar", _("Metadata rows read: %(n)d.") % {"n": len(rows)}, rows=len(rows))
    outcome = version_ingest(
        fileobj=fileobj,
        original_filename=PurePosixPath(path).name,
        original_path=path,
        source=batch.source,
        uploader=uploader,
        batch=batch,
    )
    if outcome.version is not None and outcome.created:
        sidecar.version_sidecar_apply(version=outcome.version, actor=uploader)
    status = "refused" if outcome.version is None else outcome.status
    return FileResult(path, status, outcome.message, outcome.version, code=outcome.code, params=outcome.params)


def _zip_receive(*, fileobj: IO[bytes], path: str, size: int, batch: IngestBatch, uploader: Any) -> list[FileResult]:
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused(Refusal.ZIP_UNREADABLE, name=path) from exc
    with archive:
        entries = zip_check(archive, size)
        # CSVs last, so their rows find the files of the same archive.
        entries.sort(key=lambda info: info.filename.lower().endswith(".csv"))
        results = []
        for info in entries:
            inner = f"{PurePosixPath(path).stem}/{info.filename}"
            if problem := _name_problem(inner):
                results.append(problem)
                continue
            with archive.open(info) as source:
                copy = _copy_bounded(source, settings.DUPFINDER_MAX_UPLOAD_BYTES)
            if copy is None:
                results.append(_refused(inner, Failure.FILE_TOO_LARGE, limit=_limit_mb()))
                continue
            with copy:
                results.append(
                    _file_receive(fileobj=copy, path=inner, size=info.file_size, batch=batch, uploader=uploader)
                )
        return results


def _is_zip(fileobj: IO[bytes]) -> bool:
    """By the bytes alone: "photo.zip" holding a JPEG is an image; an image with a ZIP appended is no archive."""
    head = fileobj.read(4)
    fileobj.seek(0)
    return head == b"PK\x03\x04"


def batch_upload(
    *,
    files: list[tuple[IO[bytes], str, int]],
    uploader: Any,
    batch: IngestBatch | None = None,
    source: Source | None = None,
    label: str = "",
    metadata: bytes | None = None,
    channel: str = "",
) -> UploadResult:
    """Receive files into `batch`, or a new batch from `source`, then apply the sidecar CSV `metadata`.

    Nothing is written when `uploader` may not add to `batch` (BatchNotYours) or when `metadata` or a CSV
    among the files cannot be read (SidecarRefused). Each file is stored in a transaction of its own, so
    one refused or failing file never takes the others with it.
    """
    if batch is not None:
        batch_check_open(batch=batch, user=uploader)
    _sidecars_check(files=files, metadata=metadata)
    if batch is None:
        batch = batch_create(source=source, label=label, created_by=uploader, channel=channel)
    result = batch_files_upload(batch=batch, files=files, uploader=uploader)
    if metadata is not None:
        sidecar.batch_sidecar_attach(batch=batch, content=metadata, actor=uploader)
    return result


def _sidecars_check(*, files: list[tuple[IO[bytes], str, int]], metadata: bytes | None) -> None:
    """Read every CSV of the request before anything is stored: one that cannot be read refuses it all."""
    if metadata is not None:
        try:
            sidecar.csv_parse(metadata)
        except sidecar.SidecarError as exc:
            raise SidecarRefused(str(exc), field="metadata") from exc
    for fileobj, path, size in files:
        name = sidecar.normalise_name(path)
        if not name.lower().endswith(".csv") or size > settings.DUPFINDER_MAX_UPLOAD_BYTES or _is_zip(fileobj):
            continue  # stored or refused as a file, as _file_receive does
        try:
            sidecar.csv_parse(fileobj.read(sidecar.MAX_BYTES + 1))
        except sidecar.SidecarError as exc:
            raise SidecarRefused(
                _("%(name)s: %(error)s") % {"name": _shown(name), "error": exc}, field="files"
            ) from exc
        finally:
            fileobj.seek(0)


def batch_files_upload(
    *, batch: IngestBatch, files: list[tuple[IO[bytes], str, int]], uploader: Any = None
) -> UploadResult:
    """Receive (file, path, size) triples into the batch; refusals are kept on the batch, never dropped."""
    result = UploadResult(batch)
    for fileobj, path, size in files:
        path = sidecar.normalise_name(path) or "upload"
        if problem := _name_problem(path):
            result.files.append(problem)
            continue
        if size <= settings.DUPFINDER_MAX_UPLOAD_BYTES and _is_zip(fileobj):
            try:
                result.files += _zip_receive(fileobj=fileobj, path=path, size=size, batch=batch, uploader=uploader)
            except ArchiveRefused as exc:
                result.files.append(_refused(path, exc.code, **exc.params))
            continue
        result.files.append(_file_receive(fileobj=fileobj, path=path, size=size, batch=batch, uploader=uploader))
    refused = [_skipped_row(f) for f in result.files if f.status == "refused" or _elsewhere(f, batch)]
    if refused:
        batch_skipped_add(batch_id=batch.pk, rows=refused)
    return result


def _elsewhere(result: FileResult, batch: IngestBatch) -> bool:
    """Sent before with another batch: reported here too, linked to the stored version."""
    return result.status == "already_ingested" and result.version is not None and result.version.batch_id != batch.pk


def _skipped_row(result: FileResult) -> dict[str, Any]:
    # Stored as a code with parameters, worded in each reader's language (collections_app.failures).
    row: dict[str, Any] = {"path": result.path, "code": result.code, "params": result.params}
    if not result.code:
        row["reason"] = result.message
    if result.version is not None:
        row.update(version=result.version.pk, item=result.version.item_id)
    return row


def _skipped_key(row: dict[str, Any]) -> tuple[str, str]:
    return row["path"], row.get("code") or row.get("reason", "")


@transaction.atomic
def batch_skipped_add(*, batch_id: int, rows: list[dict[str, Any]]) -> None:
    """Append refusals to the batch; the lock keeps concurrent uploads from overwriting each other's."""
    batch = IngestBatch.objects.select_for_update().get(pk=batch_id)
    known = {_skipped_key(row) for row in batch.skipped}
    batch.skipped = [*batch.skipped, *(row for row in rows if _skipped_key(row) not in known)]
    batch.save(update_fields=["skipped"])
