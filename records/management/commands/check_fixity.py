"""manage.py check_fixity [--sample N]: recompute stored SHA-256s and report files that changed or vanished."""

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from collections_app.progress import progress
from records.fixity import OUTCOME_WORDS, FixityResult, fixity_check_run


class Command(BaseCommand):
    help = (
        "Recompute the SHA-256 of every stored file (or of the N least recently checked) and compare it with the "
        "one taken at ingest. Each check is recorded in the audit trail; exits with status 1 if any file changed, "
        "is missing or could not be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sample", type=int, default=None, help="Check only the N files checked longest ago (never-checked first)."
        )

    def handle(self, *args, sample: int | None, **options) -> None:
        if sample is not None and sample < 1:
            raise CommandError(_("--sample must be a whole number, 1 or more."))
        actor = f"{getpass.getuser()} (manage.py check_fixity)"
        self._bar = None
        report = fixity_check_run(sample=sample, actor=actor, progress=self._progress)
        if self._bar is not None:
            self._bar.close()
        for result in report.problems:
            self.stdout.write(self.style.ERROR(self._problem(result)))
        summary = _("Checked %(checked)d files: %(intact)d intact, %(bad)d changed, missing or unreadable.") % {
            "checked": report.checked,
            "intact": report.checked - len(report.problems),
            "bad": len(report.problems),
        }
        if report.problems:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

    def _progress(self, n: int, total: int, result: FixityResult) -> None:
        """A bar with rate and time left on a terminal, plain lines in logs (on stderr, as the other commands)."""
        if self._bar is None:
            self._bar = progress(total=total, desc=_("Checking fixity"), stream=self.stderr)
        self._bar.update(1)

    @staticmethod
    def _problem(result: FixityResult) -> str:
        version = result.version
        return _(
            "%(outcome)s: version %(id)d (%(path)s) of item %(item)s: expected SHA-256 %(expected)s, found %(found)s"
        ) % {
            "outcome": OUTCOME_WORDS[result.outcome],
            "id": version.pk,
            "path": version.original_path or version.original_filename,
            "item": version.item.identifier,
            "expected": version.sha256,
            "found": result.found or "-",
        }
