"""`manage.py import_csv FILE --source NAME`: fill in items of a source's stored files from a sidecar CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, gettext_noop

from collections_app.models import Source
from collections_app.sidecar import MAX_BYTES, SidecarError, source_csv_import

OUTCOMES = {
    "applied": gettext_noop("applied"),
    "partly": gettext_noop("applied in part"),
    "unmatched": gettext_noop("matches no stored file"),
    "refused": gettext_noop("not applied"),
}


class Command(BaseCommand):
    help = "Apply a sidecar CSV (filename + Dublin Core columns, title_zh) to files already stored from a source."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--source", required=True, help="The source whose stored files the rows describe.")

    def handle(self, *args, file, source, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            source_obj = Source.objects.get(name=source.strip())
        except Source.DoesNotExist as exc:
            raise CommandError(f"No source named {source!r}.") from exc
        with path.open("rb") as handle:
            content = handle.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
        try:
            batch, rows = source_csv_import(source=source_obj, content=content, label=path.name)
        except SidecarError as exc:
            raise CommandError(f"{path}: {exc} Nothing was stored.") from exc
        counts = {key: sum(1 for row in rows if row.outcome == key) for key in OUTCOMES}
        self.stdout.write(
            f"{len(rows)} rows: {counts['applied']} applied, {counts['partly']} applied in part, "
            f"{counts['unmatched']} matching no file, {counts['refused']} not applied (batch {batch.pk})."
        )
        for row in rows:
            if row.outcome != "applied":
                problems = " ".join(row.problem_texts)
                outcome = gettext(OUTCOMES[row.outcome])
                self.stdout.write(f"  line {row.line} {row.filename}: {outcome}. {problems}".rstrip())
