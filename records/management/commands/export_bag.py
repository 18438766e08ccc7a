"""manage.py export_bag FOLDER [--search TEXT] [--source NAME] [--from DATE] [--to DATE] [--item ID ...] [--zip]."""

import shutil
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from records.bagit_export import BagError, BagSelection, bag_build


class Command(BaseCommand):
    help = (
        "Write a BagIt package (SHA-256 manifests) of the authoritative versions of the chosen items into FOLDER, "
        "with a Dublin Core record and a PREMIS event log per item. Every condition given must hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="A new or empty folder for the bag.")
        parser.add_argument("--search", default="", help="Only the items the catalogue's search finds for TEXT.")
        parser.add_argument("--source", default="", help="Only items whose authoritative file came from this source.")
        parser.add_argument("--from", dest="uploaded_from", type=date.fromisoformat, help="Uploaded on or after.")
        parser.add_argument("--to", dest="uploaded_to", type=date.fromisoformat, help="Uploaded on or before.")
        parser.add_argument("--item", dest="identifiers", action="append", default=[], help="An item identifier.")
        parser.add_argument("--zip", action="store_true", help="Also write FOLDER.zip.")

    def handle(self, *args, folder: Path, search, source, uploaded_from, uploaded_to, identifiers, zip, **options):
        if not (search.strip() or source or uploaded_from or uploaded_to or identifiers):
            raise CommandError(_("Choose a search, a source, a date range or some item identifiers."))
        selection = BagSelection(source, uploaded_from, uploaded_to, tuple(identifiers), search.strip())
        try:
            bag = bag_build(selection=selection, target=folder)
        except BagError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Wrote and validated the bag %(path)s: %(oxum)s (bytes.files).")
            % {"path": folder, "oxum": bag.info.get("Payload-Oxum", "")}
        )
        if zip:
            archive = shutil.make_archive(str(folder), "zip", root_dir=folder.parent, base_dir=folder.name)
            self.stdout.write(_("Wrote %(path)s.") % {"path": archive})
