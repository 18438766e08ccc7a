"""`manage.py export_clusters [--output FILE]`: clusters as JSON (a stable format used by evaluations).

`clusters` holds verified duplicates only; `possible` lists, apart, the pairs verification could not settle
(the same picture except one region that may be other content), which a curator confirms or not.
"""

import json

from django.core.management.base import BaseCommand

from dedup.selectors import clusters_export, possible_pairs_export


class Command(BaseCommand):
    help = "Write every cluster of two or more versions as JSON; versions not listed are singletons."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, output=None, **options):
        text = json.dumps(
            {"clusters": clusters_export(), "possible": possible_pairs_export()}, ensure_ascii=False, indent=1
        )
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Wrote {output}")
        else:
            self.stdout.write(text)
