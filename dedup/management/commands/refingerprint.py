"""`manage.py refingerprint [--all] [--limit N] [--dry-run] [--wait]`: fingerprint done versions again.

Versions whose fingerprint was computed under an older contract of the imaging core
(`dedup.imaging.fingerprint.CONTRACT`) are queued to the workers, which replace the fingerprint, hashes and
thumbnails and match the version again. A file that can no longer be read keeps its old fingerprint.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from collections_app.progress import progress
from collections_app.queue_wait import WaitTimedOut, WorkersGone, queued_work_wait, workers_answering
from dedup.imaging.fingerprint import CONTRACT
from dedup.selectors import refingerprint_due, refingerprint_in_quarantine, refingerprint_kept, refingerprint_waiting
from dedup.services import versions_queue_refingerprint
from dedup.tasks import refingerprint_version


class Command(BaseCommand):
    help = (
        "Queue the processed versions whose fingerprint is older than the imaging core's contract to be "
        "fingerprinted again and matched (edges, clusters and curators' decisions are kept); a file that cannot "
        "be read keeps its old fingerprint and is reported."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", dest="everything", help="Every processed version, whatever its contract."
        )
        parser.add_argument("--limit", type=int, help="At most this many versions, lowest id first.")
        parser.add_argument("--dry-run", action="store_true", help="Only count the versions; nothing is queued.")
        parser.add_argument("--wait", action="store_true", help="Return only when every queued version is done.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds --wait waits at most.")

    def handle(self, *args, everything=False, limit=None, dry_run=False, wait=False, timeout=3600, **options):
        if limit is not None and limit < 1:
            raise CommandError(_("--limit must be a whole number, 1 or more."))
        due = refingerprint_due(everything=everything)
        in_quarantine = refingerprint_in_quarantine(everything=everything)
        if in_quarantine:
            self.stdout.write(
                _("Left as they are: %(n)d versions whose file is in quarantine (restore_version brings one back).")
                % {"n": in_quarantine}
            )
        if dry_run:
            count = min(due.count(), limit) if limit else due.count()
            self.stdout.write(
                _("%(n)d versions would be fingerprinted again (contract %(contract)d); nothing was queued (dry run).")
                % {"n": count, "contract": CONTRACT}
            )
            return
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        if wait and not eager and not workers_answering():
            raise CommandError(
                _("No Celery worker answered; start one (celery -A config worker) or run without --wait to queue.")
            )
        ids = list((due[:limit] if limit else due).values_list("pk", flat=True))
        try:
            requested_at = versions_queue_refingerprint(
                version_ids=ids,
                enqueue=refingerprint_version.delay,
                progress=lambda **kwargs: progress(stream=self.stderr, **kwargs),
            )
        except OperationalError as exc:
            raise CommandError(_("The broker could not be reached (%(error)s); run again.") % {"error": exc}) from exc
        self.stdout.write(
            _("Queued %(n)d versions to be fingerprinted again (contract %(contract)d).")
            % {"n": len(ids), "contract": CONTRACT}
        )
        if wait or eager:
            self._wait(requested_at, len(ids), timeout)

    def _wait(self, requested_at, total, timeout):
        try:
            queued_work_wait(
                total=total,
                finished=lambda: total - refingerprint_waiting(requested_at=requested_at),
                timeout=timeout,
                desc=_("Fingerprinting again"),
                unit="version",
                stream=self.stderr,
            )
        except WorkersGone as exc:
            raise CommandError(
                _("No Celery worker is answering; the versions stay queued and keep their fingerprints meanwhile.")
            ) from exc
        except WaitTimedOut as exc:
            raise CommandError(_("Timed out with %(n)d versions still waiting.") % {"n": exc.remaining}) from exc
        kept = refingerprint_kept(requested_at=requested_at)
        self.stdout.write(
            _("Fingerprinted again: %(done)d; kept their old fingerprint: %(kept)d.")
            % {"done": total - len(kept), "kept": len(kept)}
        )
        for path, reason in kept:
            self.stdout.write(_("  kept %(path)s: %(reason)s") % {"path": path, "reason": reason})
