"""`manage.py rebuild_clusters`: recompute all matches and clusters from stored fingerprints."""

import time
from functools import partial

from django.core.management.base import BaseCommand

from collections_app.progress import progress
from dedup.matching.rebuild import clusters_rebuild


class Command(BaseCommand):
    help = "Recompute candidate pairs, verification and clusters from stored fingerprints (decisions are kept)."

    def handle(self, *args, **options):
        started = time.monotonic()
        report = clusters_rebuild(progress=partial(progress, stream=self.stderr))
        self.stdout.write(
            f"Matched {report.versions} processed versions: {report.candidate_pairs} candidate pairs, "
            f"{report.verified_pairs} verified, {report.clusters} clusters ({time.monotonic() - started:.1f} s)."
        )
        for status, count in sorted(report.skipped.items()):
            self.stdout.write(f"  skipped {count} versions that are {status}")
