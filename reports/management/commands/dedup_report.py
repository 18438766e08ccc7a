"""`manage.py dedup_report [--json]`: the headline duplicate figures, for an audit in the terminal."""

import dataclasses
import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from reports.charts import human_bytes
from reports.selectors import KIND_WORDS, Figures
from reports.tallies import dashboard_figures


def _lines(f: Figures) -> list[str]:
    def count(n: int, size: int) -> str:
        return f"{n} ({human_bytes(size)})"

    rows = [
        (_("Items"), _("%(n)d (%(merged)d merged into others)") % {"n": f.items, "merged": f.items_merged_away}),
        (_("Versions"), count(f.versions, f.bytes)),
        (_("Processing"), _("%(w)d waiting, %(f)d failed") % {"w": f.waiting, "f": f.failed}),
        (_("Clusters"), _("%(open)d open, %(resolved)d resolved, %(dismissed)d dismissed") % f.clusters),
        (_("Duplicate versions"), count(f.duplicate_versions, f.duplicate_bytes)),
        (_("  in open clusters"), count(f.open_duplicate_versions, f.open_duplicate_bytes)),
        (_("  reclaimable now"), count(f.reclaimable_versions, f.reclaimable_bytes)),
        (_("  in quarantine"), count(f.quarantined_versions, f.quarantined_bytes)),
        (_("  deleted for good"), count(f.purged_versions, f.purged_bytes)),
        (_("Under legal hold"), str(f.held_versions)),
    ]
    lines = [f"{label:<24}{value}" for label, value in rows]
    lines.append(
        _("Resolving the open clusters would free %(size)s (keeping the largest file of each).")
        % {"size": human_bytes(f.open_duplicate_bytes)}
    )
    for title, breakdown, with_totals in ((_("By source"), f.by_source, True), (_("By match kind"), f.by_kind, False)):
        lines += ["", title]
        for row in breakdown:
            total = f"{row.versions:>8} {human_bytes(row.bytes):>10}  " if with_totals else ""
            dups = _("duplicates: %(n)d, %(size)s") % {
                "n": row.duplicate_versions,
                "size": human_bytes(row.duplicate_bytes),
            }
            lines.append(f"  {KIND_WORDS.get(row.label, row.label)!s:<28}{total}{dups}")
    return lines


class Command(BaseCommand):
    help = "Print items, versions, clusters, duplicate versions and bytes, per source and per kind of match."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the figures as JSON instead.")

    def handle(self, *args, as_json=False, **options):
        figures = dashboard_figures()
        if as_json:
            self.stdout.write(json.dumps(dataclasses.asdict(figures), ensure_ascii=False, indent=1))
        else:
            self.stdout.write("\n".join(_lines(figures)))
