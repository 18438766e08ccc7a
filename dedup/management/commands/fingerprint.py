"""`manage.py fingerprint PATH...`: one JSON line per file, without touching the database."""

import json
import time

from django.core.management.base import BaseCommand

from collections_app.failures import failure_text
from dedup.imaging.errors import FingerprintError
from dedup.imaging.fingerprint import fingerprint_file


class Command(BaseCommand):
    help = "Print hashes, size and timings of image files as JSON lines (diagnosis; nothing is stored)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")

    def handle(self, *args, paths, **options):
        for path in paths:
            started = time.perf_counter()
            try:
                fp = fingerprint_file(path)
            except FingerprintError as exc:
                row = {"path": path, "error": failure_text(exc.code, exc.params), "error_code": exc.code}
            except OSError as exc:
                row = {"path": path, "error": f"could not be read ({exc.strerror or exc})"}
            else:
                row = {
                    "path": path,
                    "sha256": fp.sha256,
                    "bytes": fp.byte_size,
                    "format": fp.format,
                    "width": fp.width,
                    "height": fp.height,
                    "mode": fp.mode,
                    "bit_depth": fp.bit_depth,
                    "pages": fp.page_count,
                    "phash": f"{fp.phash:016x}",
                    "dhash": f"{fp.dhash:016x}",
                    "phash_trimmed": f"{fp.phash_trimmed:016x}" if fp.phash_trimmed is not None else None,
                    "phash_dihedral": [f"{h:016x}" for h in fp.phash_dihedral],
                    "timings_ms": fp.timings,
                }
            row["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
            self.stdout.write(json.dumps(row, ensure_ascii=False))
