"""Fingerprint time of a 12 MP HEIC and of a 20-page PDF scan beside a 12 MP JPEG's, measured side by side.

Run from the repository root:

    .venv/bin/python -m bench.formats_speed              # about a minute
    .venv/bin/python -m bench.formats_speed --repeat 7 --pages 20

The files are made here with the libraries the system reads them with (Pillow for JPEG, pillow-heif for HEIC,
Pillow's PDF writer for a scan PDF of 300 dpi A4 pages, each page a JPEG as scanners write them), then
fingerprinted in turn, interleaved, --repeat times: the JPEG, the HEIC (also as AVIF and JPEG 2000 for
reference) and every page of the PDF, one fingerprint_file(page=n) call per page, as the worker makes them.
Each figure is the best of the runs (interference only adds time); CPU seconds of this process, which for HEIC
include libheif's decoding threads, and wall seconds beside them. Ratios are to the JPEG of the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dedup.imaging.fingerprint import fingerprint_file  # noqa: E402
from dedup.imaging.pdf import pdf_page_count  # noqa: E402
from tests.pictures import make_document_page, make_photo, random_layout  # noqa: E402

PHOTO_SIZE = (4000, 3000)  # 12 MP
A4_300_DPI = (2480, 3508)


def _encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _scan_pdf(pages: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    layout = random_layout(rng)
    scans = [make_document_page(rng, layout, n).resize(A4_300_DPI, Image.BICUBIC) for n in range(1, pages + 1)]
    buffer = io.BytesIO()
    scans[0].save(buffer, "PDF", save_all=True, append_images=scans[1:], resolution=300, quality=85)
    return buffer.getvalue()


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def _pdf_all_pages(data: bytes, pages: int) -> None:
    for n in range(1, pages + 1):
        fingerprint_file(io.BytesIO(data), page=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    photo = make_photo(np.random.default_rng(12), PHOTO_SIZE)
    files = {
        "JPEG 12 MP": _encoded(photo, "JPEG", quality=90),
        "HEIC 12 MP": _encoded(photo, "HEIF", quality=85),
        "AVIF 12 MP": _encoded(photo, "AVIF", quality=70),
        "JPEG 2000 12 MP": _encoded(photo, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[20]),
    }
    pdf = _scan_pdf(args.pages, 20)
    pages = pdf_page_count(io.BytesIO(pdf), max_pages=args.pages)
    work: dict[str, Callable[[], object]] = {
        name: (lambda d=data: fingerprint_file(io.BytesIO(d))) for name, data in files.items()
    }
    work[f"PDF {pages} pages (all)"] = lambda: _pdf_all_pages(pdf, pages)
    sizes = {**{name: len(data) for name, data in files.items()}, f"PDF {pages} pages (all)": len(pdf)}
    best: dict[str, tuple[float, float]] = {}
    for _run in range(args.repeat):
        for name, job in work.items():  # interleaved, so drift in the machine's speed touches every format alike
            cpu, wall = _timed(job)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], cpu), min(old[1], wall))
    base_cpu, _base_wall = best["JPEG 12 MP"]
    print(f"best of {args.repeat} runs, interleaved; CPU and wall seconds of one fingerprint_file (the PDF: all pages)")
    print(f"{'file':<24} {'MB':>6} {'CPU s':>8} {'wall s':>8} {'x JPEG':>7}")
    for name, (cpu, wall) in best.items():
        print(f"{name:<24} {sizes[name] / 1e6:>6.1f} {cpu:>8.3f} {wall:>8.3f} {cpu / base_cpu:>7.2f}")
    pdf_cpu, _ = best[f"PDF {pages} pages (all)"]
    print(f"{'PDF, one page':<24} {'':>6} {pdf_cpu / pages:>8.3f} {'':>8} {pdf_cpu / pages / base_cpu:>7.2f}")


if __name__ == "__main__":
    main()
