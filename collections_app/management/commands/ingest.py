"""`manage.py ingest DIR --source NAME [--wait] [--inline]`: ingest a folder of images, re-runnable."""

import os
import sys
import time
from pathlib import Path

from celery import current_app as celery_app  # config/__init__.py makes the project's app current
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from collections_app.selectors import failed_versions, versions_status_counts
from collections_app.services import batch_create, source_get_or_create, version_ingest


def _walk(root: Path):
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def workers_answering(timeout: float = 2.0) -> bool:
    try:
        return bool(celery_app.control.ping(timeout=timeout))
    except Exception:
        return False


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
        batch = batch_create(source=source_obj, label=f"ingest {root}")
        created, already, skipped = self._ingest_all(root, source_obj, batch, inline)
        batch.skipped = [{"path": p, "reason": r} for p, r in skipped]
        batch.save(update_fields=["skipped"])
        self.stdout.write(
            f"Created {len(created)} versions, {already} already ingested, {len(skipped)} skipped (batch {batch.pk})."
        )
        for path, reason in skipped:
            self.stdout.write(f"  skipped {path}: {reason}")
        if wait or inline:
            self._wait(created, timeout)
        if getattr(self, "_no_worker", False):
            sys.exit(3)

    def _ingest_all(self, root, source, batch, inline):
        created, already, skipped = [], 0, []
        paths = list(_walk(root))
        for path in tqdm(paths, desc="Ingesting", unit="file", file=self.stderr, disable=None):
            relative = path.relative_to(root).as_posix()
            try:
                with path.open("rb") as handle:
                    outcome = version_ingest(
                        fileobj=handle,
                        original_filename=path.name,
                        original_path=relative,
                        source=source,
                        batch=batch,
                        process_inline=inline,
                    )
            except OSError as exc:
                skipped.append((relative, f"could not be read ({exc.strerror or exc})"))
                continue
            if outcome.created:
                created.append(outcome.version.pk)
            elif outcome.status == "already_ingested":
                already += 1
            else:
                skipped.append((relative, outcome.message))
        return created, already, skipped

    def _wait(self, version_ids, timeout):
        deadline = time.monotonic() + timeout
        total = len(version_ids)
        last_finished, last_progress = -1, time.monotonic()
        with tqdm(total=total, desc="Processing", unit="file", file=self.stderr, disable=None) as bar:
            while True:
                counts = versions_status_counts(version_ids=version_ids)
                finished = counts.get("done", 0) + counts.get("failed", 0)
                bar.update(finished - bar.n)
                if finished >= total:
                    break
                if finished != last_finished:
                    last_finished, last_progress = finished, time.monotonic()
                elif time.monotonic() - last_progress > 30 and not workers_answering():
                    raise CommandError("No Celery worker is answering; the files are stored and will wait.")
                if time.monotonic() > deadline:
                    raise CommandError(f"Timed out with {total - finished} versions still waiting.")
                time.sleep(0.3)
        self.stdout.write(f"Processed: {counts.get('done', 0)} done, {counts.get('failed', 0)} failed.")
        for path, error in failed_versions(version_ids=version_ids)[:50]:
            self.stdout.write(f"  failed {path}: {error}")
