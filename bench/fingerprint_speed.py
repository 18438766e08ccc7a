"""Ingest speed and peak memory of dedup.imaging.fingerprint.fingerprint_file against its two yardsticks.

Run from the repository root:

    .venv/bin/python -m bench.fingerprint_speed                        # generated files, about a minute
    .venv/bin/python -m bench.fingerprint_speed --data-dir bench/.data # keep (and reuse) the generated files
    .venv/bin/python -m bench.fingerprint_speed --jpegs 40 --scans 12 --big-tiffs 4 --repeat 5
    .venv/bin/python -m bench.fingerprint_speed --folder /path/to/images

On the same files in one run it times, per file and interleaved:
  * fingerprint_file(path, preview=False)          - everything the worker does for one file (it leaves a
                                                     photo's large preview to be made when first shown; a
                                                     tree without that argument is timed as it is)
  * imagehash.phash(Image.open(path))              - a pHash alone, decoding at full size
  * Image.open(path); draft("RGB", (w//8, h//8)); load() - a bare 1/8-scale decode (full decode
    for formats without draft)
Times are CPU seconds of this single-threaded process (time.process_time), so "images/second/core"
is not skewed by other work on the machine; each file's figure is the best of --repeat runs
(interference only ever adds time, as the timeit documentation argues).
Peak RSS (VmHWM, or getrusage ru_maxrss off Linux) is measured in a fresh child process per large TIFF.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# One thread per process, so the figures are per core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import imagehash  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/fingerprint_speed.py`
    sys.path.insert(0, str(ROOT))

from dedup.imaging.fingerprint import fingerprint_file  # noqa: E402

JPEG_KINDS = ((0, "JPEG clean"), (3, "JPEG low-ISO"), (9, "JPEG high-ISO"))  # (grain, group)
MEMORY_LIMIT_MB = 300
TARGET_VS_PHASH = 4.0
TARGET_VS_DRAFT = 2.0
# Linux carries ru_maxrss over fork and exec, so a child of this (large) process would report the
# parent's peak; VmHWM belongs to the child's own address space. getrusage is the fallback elsewhere.
CHILD = """
import json, resource, sys, time
from PIL import Image
from dedup.imaging.fingerprint import fingerprint_file

def peak_kb():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

baseline = peak_kb()
start = time.perf_counter()
if sys.argv[2] == "fingerprint":
    fingerprint_file(sys.argv[1])
else:
    Image.open(sys.argv[1]).load()
print(json.dumps({"baseline_kb": baseline, "peak_kb": peak_kb(), "seconds": time.perf_counter() - start}))
"""


@dataclass(frozen=True)
class Sample:
    """One file of the benchmark, with the group it is reported under."""

    path: Path
    group: str


# --- generated files -----------------------------------------------------------------


def photo_like(width: int, height: int, seed: int, grain: int = 9) -> Image.Image:
    """Smooth colour fields, hard-edged shapes, fine lines and sensor-like noise: JPEG works as hard as on photos."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(width // 60, width // 6))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=fill)
    for _ in range(300):
        points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(2)]
        draw.line(points, fill=tuple(int(v) for v in rng.integers(0, 256, 3)), width=int(rng.integers(1, 4)))
    pixels = np.asarray(image, dtype=np.int16)
    noise = rng.integers(-grain, grain + 1, (height, width, 1), dtype=np.int16)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def _save_once(path: Path, make: Callable[[], Image.Image], **params: object) -> Path:
    if not path.exists():
        make().save(path, **params)
    return path


def generate(data_dir: Path, *, jpegs: int, scans: int, big_tiffs: int) -> list[Sample]:
    """Files under data_dir, reused when already there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(jpegs):
        # Entropy decoding costs the same at any DCT scale, so grainy (high-ISO) photos narrow the
        # gap between a draft decode and a full one; each kind is reported separately.
        grain, kind = JPEG_KINDS[i % len(JPEG_KINDS)]
        path = data_dir / f"photo_{i:02d}_grain{grain}.jpg"
        samples.append(Sample(_save_once(path, lambda i=i, g=grain: photo_like(4000, 3000, i, g), quality=90), kind))
    for i in range(scans):
        # A4 at 300 dpi, the most common document scan; alternate PNG and LZW TIFF, colour and grey.
        page = lambda i=i: photo_like(2480, 3508, 100 + i).convert("RGB" if i % 4 < 2 else "L")  # noqa: E731
        if i % 2 == 0:
            samples.append(Sample(_save_once(data_dir / f"scan_{i:02d}.png", page), "scan"))
        else:
            samples.append(Sample(_save_once(data_dir / f"scan_{i:02d}.tif", page, compression="tiff_lzw"), "scan"))
    for i in range(big_tiffs):
        # 8660 x 5774 = 50 MP: alternate uncompressed and LZW, as archival masters come.
        compression = "raw" if i % 2 == 0 else "tiff_lzw"
        name = f"master_{i:02d}_{compression}.tif"
        big = lambda i=i: photo_like(8660, 5774, 200 + i)  # noqa: E731
        samples.append(Sample(_save_once(data_dir / name, big, compression=compression), "TIFF 50 MP"))
    return samples


def from_folder(folder: Path) -> list[Sample]:
    samples = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            with Image.open(path) as image:
                megapixels = image.width * image.height / 1e6
                group = f"{image.format} {'≥40 MP' if megapixels >= 40 else '<40 MP'}"
        except Exception:  # noqa: BLE001 - anything Pillow cannot open is simply not benchmarked
            continue
        samples.append(Sample(path, group))
    return samples


# --- timing --------------------------------------------------------------------------


# The worker's call: trees from before the preview was left out take no `preview` argument.
WORKER_CALL = {"preview": False} if "preview" in inspect.signature(fingerprint_file).parameters else {}


def run_fingerprint(path: Path) -> None:
    fingerprint_file(path, **WORKER_CALL)


def run_phash(path: Path) -> None:
    imagehash.phash(Image.open(path))


def run_draft_decode(path: Path) -> None:
    image = Image.open(path)
    width, height = image.size
    image.draft("RGB", (width // 8, height // 8))
    image.load()


METHODS: dict[str, Callable[[Path], None]] = {
    "fingerprint_file": run_fingerprint,
    "imagehash.phash": run_phash,
    "1/8 decode": run_draft_decode,
}


def cpu_seconds(run: Callable[[Path], None], path: Path) -> float:
    start = time.process_time()
    run(path)
    return time.process_time() - start


def time_files(samples: list[Sample], repeat: int) -> dict[str, dict[str, list[float]]]:
    """group -> method -> best CPU seconds per file; methods interleaved so drift hits all alike."""
    results: dict[str, dict[str, list[float]]] = {}
    for sample in samples:
        runs: dict[str, list[float]] = {name: [] for name in METHODS}
        for _ in range(repeat if sample.group != "TIFF 50 MP" else 1):
            for name, run in METHODS.items():
                runs[name].append(cpu_seconds(run, sample.path))
        group = results.setdefault(sample.group, {name: [] for name in METHODS})
        for name in METHODS:
            group[name].append(min(runs[name]))
    return results


def stage_medians(samples: list[Sample]) -> dict[str, float]:
    timings = [fingerprint_file(s.path, **WORKER_CALL).timings for s in samples]
    stages = dict.fromkeys(stage for t in timings for stage in t)  # decode_again only where a file needed it
    return {stage: statistics.median(t.get(stage, 0.0) for t in timings) for stage in stages}


def preview_cost(samples: list[Sample], repeat: int) -> float | None:
    """Median CPU ms of making a JPEG's preview later, in a tree where the worker leaves it out."""
    module = sys.modules[fingerprint_file.__module__]
    if not WORKER_CALL or not samples or not hasattr(module, "preview_file"):
        return None
    return 1000 * statistics.median(
        min(cpu_seconds(module.preview_file, s.path) for _ in range(repeat)) for s in samples
    )


def peak_rss(path: Path, what: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


# --- report --------------------------------------------------------------------------


def speed_table(results: dict[str, dict[str, list[float]]], sizes: dict[str, str]) -> list[str]:
    lines = [
        "| files | n | fingerprint_file img/s/core | imagehash.phash img/s/core | bare 1/8 decode img/s/core "
        "| fingerprint vs phash | fingerprint cost vs 1/8 decode |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group, methods in results.items():
        rate = {name: len(times) / sum(times) for name, times in methods.items()}
        lines.append(
            f"| {group} {sizes.get(group, '')} | {len(methods['fingerprint_file'])} "
            f"| {rate['fingerprint_file']:.1f} | {rate['imagehash.phash']:.1f} | {rate['1/8 decode']:.1f} "
            f"| {rate['fingerprint_file'] / rate['imagehash.phash']:.1f}x faster "
            f"| {rate['1/8 decode'] / rate['fingerprint_file']:.2f}x |"
        )
    return lines


def memory_table(rows: list[tuple[Path, dict[str, float], dict[str, float]]]) -> list[str]:
    lines = [
        "| file | size on disk | peak RSS fingerprint_file | peak RSS Image.open().load() | interpreter + imports |",
        "|---|---:|---:|---:|---:|",
    ]
    for path, ours, naive in rows:
        lines.append(
            f"| {path.name} | {path.stat().st_size / 1e6:.0f} MB | {ours['peak_kb'] / 1024:.0f} MB "
            f"| {naive['peak_kb'] / 1024:.0f} MB | {ours['baseline_kb'] / 1024:.0f} MB |"
        )
    return lines


def group_sizes(samples: list[Sample]) -> dict[str, str]:
    """Pixel size of the group's first file and the mean file size, for the table's first column."""
    sizes: dict[str, str] = {}
    for group in dict.fromkeys(s.group for s in samples):
        members = [s.path for s in samples if s.group == group]
        with Image.open(members[0]) as image:
            pixels = f"{image.width}x{image.height}"
        sizes[group] = f"({pixels}, {statistics.mean(p.stat().st_size for p in members) / 1e6:.1f} MB)"
    return sizes


def verdicts(results: dict[str, dict[str, list[float]]], memory: list[tuple[Path, dict, dict]]) -> list[str]:
    lines = []
    for group in (g for g in results if g.startswith("JPEG")):
        ours, phash, draft = (len(t) / sum(t) for t in results[group].values())
        lines.append(f"- {group}: {ours / phash:.1f}x faster than imagehash.phash (target >= {TARGET_VS_PHASH:g}x)")
        lines.append(f"- {group}: {draft / ours:.2f}x the cost of a bare 1/8 decode (target <= {TARGET_VS_DRAFT:g}x)")
    if memory:
        worst = max(ours["peak_kb"] for _, ours, _ in memory) / 1024
        lines.append(f"- 50 MP TIFF: worst peak RSS {worst:.0f} MB (target < {MEMORY_LIMIT_MB} MB)")
    return lines


def report(samples: list[Sample], repeat: int) -> str:
    """Time every file, measure the big TIFFs' memory, and return the markdown to print."""
    run_fingerprint(samples[0].path)  # imports and first-call set-up are not ingest cost
    results = time_files(samples, repeat)
    big = [s.path for s in samples if s.group in ("TIFF 50 MP", "TIFF ≥40 MP")]
    memory = [(path, peak_rss(path, "fingerprint"), peak_rss(path, "load")) for path in big]
    stages = stage_medians([s for s in samples if s.group.startswith("JPEG")])
    parts = ["\n".join(speed_table(results, group_sizes(samples)))]
    if stages:
        parts.append(
            "fingerprint_file stages on the JPEGs, median wall ms: "
            + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        )
    later = preview_cost([s for s in samples if s.group.startswith("JPEG")], repeat)
    if later is not None:
        parts.append(f"the 1024 px preview left out above, made on first view (preview_file): median {later:.1f} ms")
    if memory:
        parts.append("\n".join(memory_table(memory)))
    parts.append("\n".join(verdicts(results, memory)))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="benchmark these images instead of generated ones")
    parser.add_argument("--data-dir", type=Path, help="where generated files go and are reused (default: a temp dir)")
    parser.add_argument("--jpegs", type=int, default=9, help="12 MP JPEGs to generate (clean, low- and high-ISO)")
    parser.add_argument("--scans", type=int, default=4, help="A4 300 dpi PNG/TIFF scans to generate")
    parser.add_argument("--big-tiffs", type=int, default=2, help="50 MP TIFFs to generate (speed and memory)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file and method; the best counts")
    args = parser.parse_args()

    temp_dir = None if args.folder or args.data_dir else Path(tempfile.mkdtemp(prefix="fingerprint-bench-"))
    try:
        start = time.perf_counter()
        if args.folder:
            samples = from_folder(args.folder)
        else:
            data_dir = args.data_dir or temp_dir
            samples = generate(data_dir, jpegs=args.jpegs, scans=args.scans, big_tiffs=args.big_tiffs)
        if not samples:
            sys.exit("No images to benchmark.")
        print(f"{len(samples)} files ready in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        print(report(samples, args.repeat))
        print(f"\n(total {time.perf_counter() - start:.0f} s; CPU time, one thread; Python {sys.version.split()[0]})")
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
