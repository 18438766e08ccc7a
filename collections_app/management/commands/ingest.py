"""`manage.py ingest DIR --source NAME [--wait] [--inline]`: ingest a folder of images, re-runnable.

Only regular files inside DIR are read. Links, named pipes, devices and sockets are skipped with a reason;
every file is opened from DIR's own descriptor through real folders, never through a link; and no file is
read past the size it had when opened, which is at most DUPFINDER_MAX_UPLOAD_BYTES.
"""

import io
import os
import stat
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from collections_app.failures import Refusal, failure_text, skipped_reason
from collections_app.models import IngestBatch
from collections_app.progress import progress
from collections_app.queue_wait import WaitTimedOut, WorkersGone, queued_work_wait, workers_answering
from collections_app.selectors import failed_versions, versions_status_counts
from collections_app.services import StorageUnavailable, batch_create, source_get_or_create, version_ingest
from dedup.imaging.errors import Failure

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC
# O_NONBLOCK: should the entry become a named pipe after it was looked at, opening it must not wait for a writer.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC


class Skipped(Exception):
    """An entry that is not read; `code` and `params` say why, kept on the batch and worded for each reader."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params

    def __str__(self) -> str:
        return failure_text(self.code, self.params)


class FileGrew(OSError):
    """The file became longer than it was when opened, so what was read is not the whole file."""

    code, params = Refusal.FILE_GREW, {}

    def __str__(self) -> str:
        return failure_text(self.code)


class _CappedFile(io.RawIOBase):
    """A regular file read no further than `cap` bytes, its size when opened; growing past that is FileGrew."""

    def __init__(self, fd: int, cap: int):
        super().__init__()
        self._file = io.FileIO(fd, "rb")
        self._cap = cap

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        room = self._cap - self._file.tell()
        if room <= 0:
            if os.fstat(self._file.fileno()).st_size > self._cap:
                raise FileGrew(Refusal.FILE_GREW)
            return 0
        with memoryview(buffer) as view:
            return self._file.readinto(view[:room])

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset, whence = self._cap + offset, io.SEEK_SET
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
        super().close()


def _skipped_row(path: str, reason) -> dict:
    """A refusal (Skipped, FileGrew or version_ingest's outcome) kept as its code, worded for each reader."""
    return {"path": path, "code": str(reason.code), "params": reason.params}


def _listing(root: Path) -> tuple[list[str], list[tuple[str, Skipped]]]:
    """Relative paths of every entry under root but its folders, in order, and the folders that cannot be listed.

    A link to a folder is listed as an entry (and skipped with its reason), never walked into.
    """
    entries: list[str] = []
    unreadable: list[tuple[str, Skipped]] = []

    def refused(exc: OSError) -> None:
        relative = Path(exc.filename).relative_to(root).as_posix()
        unreadable.append((relative, Skipped(Refusal.FOLDER_UNREADABLE, reason=str(exc.strerror or exc))))

    for dirpath, dirnames, filenames in os.walk(root, onerror=refused):
        folder = Path(dirpath)
        links = [name for name in dirnames if (folder / name).is_symlink()]
        dirnames[:] = sorted(name for name in dirnames if name not in links)
        entries += [(folder / name).relative_to(root).as_posix() for name in sorted(filenames + links)]
    return entries, unreadable


def _kind_reason(mode: int) -> Skipped:
    if stat.S_ISFIFO(mode):
        return Skipped(Refusal.NAMED_PIPE)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Skipped(Refusal.DEVICE)
    if stat.S_ISSOCK(mode):
        return Skipped(Refusal.SOCKET)
    return Skipped(Refusal.NOT_REGULAR)


def _link_reason(root: Path, relative: str, target: str) -> Skipped:
    real_root = os.path.realpath(root)
    inside = os.path.commonpath([os.path.realpath(root / relative), real_root]) == real_root
    return Skipped(Refusal.LINK_INSIDE if inside else Refusal.LINK_OUTSIDE, target=target)


def _too_large() -> Skipped:
    return Skipped(Failure.FILE_TOO_LARGE, limit=settings.DUPFINDER_MAX_UPLOAD_BYTES // (1024 * 1024))


def _open_inside(root: Path, root_fd: int, relative: str) -> io.BufferedReader:
    """The regular file at `relative`, reached from root_fd through real folders only; otherwise Skipped."""
    *folders, name = relative.split("/")
    opened: list[int] = []
    try:
        parent = root_fd
        for folder in folders:
            parent = os.open(folder, FOLDER_FLAGS, dir_fd=parent)
            opened.append(parent)
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise _link_reason(root, relative, os.readlink(name, dir_fd=parent))
        if not stat.S_ISREG(info.st_mode):
            raise _kind_reason(info.st_mode)
        if info.st_size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
            raise _too_large()
        fd = os.open(name, FILE_FLAGS, dir_fd=parent)
    finally:
        for folder_fd in opened:
            os.close(folder_fd)
    info = os.fstat(fd)  # what was opened, which may not be what was looked at a moment before
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _kind_reason(info.st_mode)
    if info.st_size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
        os.close(fd)
        raise _too_large()
    return io.BufferedReader(_CappedFile(fd, info.st_size))


class Command(BaseCommand):
    help = "Ingest every image under DIR (recursively) for a source; running it again creates nothing twice."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--source", required=True, help="Department, portal or system the files come from.")
        parser.add_argument("--wait", action="store_true", help="Return only when every new version is processed.")
        parser.add_argument("--inline", action="store_true", help="Process in this process, without a broker.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds --wait waits at most.")

    def handle(self, *args, directory, source, wait, inline, timeout, **options):
        root = Path(directory)
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        eager = inline or settings.CELERY_TASK_ALWAYS_EAGER
        if wait and not eager and not workers_answering():
            self.stderr.write(
                "No Celery worker answered. Files will be stored and processed when a worker starts "
                "(`celery -A config worker`), or run again with --inline to process here."
            )
            wait = False
            self._no_worker = True
        source_obj = source_get_or_create(name=source)
        batch = batch_create(source=source_obj, label=str(root), channel=IngestBatch.Channel.FOLDER)
        created, already, skipped = self._ingest_all(root, source_obj, batch, inline)
        batch.skipped = [_skipped_row(p, r) for p, r in skipped]
        batch.save(update_fields=["skipped"])
        self.stdout.write(
            f"Created {len(created)} versions, {already} already ingested, {len(skipped)} skipped (batch {batch.pk})."
        )
        for row in batch.skipped:
            self.stdout.write(f"  skipped {row['path']}: {skipped_reason(row)}")
        if wait or inline:
            self._wait(created, timeout)
        if getattr(self, "_no_worker", False):
            sys.exit(3)

    def _ingest_all(self, root, source, batch, inline):
        created, already = [], 0
        entries, skipped = _listing(root)
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | CLOEXEC)
        try:
            for relative in progress(entries, desc="Ingesting", unit="file", stream=self.stderr):
                try:
                    with _open_inside(root, root_fd, relative) as handle:
                        outcome = version_ingest(
                            fileobj=handle,
                            original_filename=relative.rsplit("/", 1)[-1],
                            original_path=relative,
                            source=source,
                            batch=batch,
                            process_inline=inline,
                        )
                except (Skipped, FileGrew) as exc:
                    skipped.append((relative, exc))
                    continue
                except StorageUnavailable as exc:  # every file after it would fail the same way
                    raise CommandError(str(exc)) from exc
                except OSError as exc:
                    reason = Skipped(Refusal.FILE_UNREADABLE, reason=str(exc.strerror or exc))
                    skipped.append((relative, reason))
                    continue
                if outcome.created:
                    # A PDF's pages are versions of their own: --wait waits for them, not for the stored document.
                    created += [outcome.version.pk, *outcome.version.pages.values_list("pk", flat=True)]
                elif outcome.status == "already_ingested":
                    already += 1
                else:
                    skipped.append((relative, outcome))
        finally:
            os.close(root_fd)
        return created, already, skipped

    def _wait(self, version_ids, timeout):
        def finished() -> int:
            counts = versions_status_counts(version_ids=version_ids)
            return counts.get("done", 0) + counts.get("failed", 0)

        try:
            queued_work_wait(
                total=len(version_ids),
                finished=finished,
                timeout=timeout,
                desc="Processing",
                unit="file",
                stream=self.stderr,
            )
        except WorkersGone as exc:
            raise CommandError("No Celery worker is answering; the files are stored and will wait.") from exc
        except WaitTimedOut as exc:
            raise CommandError(f"Timed out with {exc.remaining} versions still waiting.") from exc
        counts = versions_status_counts(version_ids=version_ids)
        self.stdout.write(f"Processed: {counts.get('done', 0)} done, {counts.get('failed', 0)} failed.")
        for path, error in failed_versions(version_ids=version_ids)[:50]:
            self.stdout.write(f"  failed {path}: {error}")
