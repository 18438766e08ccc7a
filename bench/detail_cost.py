"""What the second reading of pages costs: CPU per pair with and without the detail rendition, side by side.

    python -m bench.detail_cost DIR --cache SIDES.pickle [--pairs 400]

Reads the fingerprinted sides bench.pair_eval cached (`--cache`), takes a sample of its true pairs and
look-alike pairs, and times `compare_pair` on each pair twice in turn, once as stored and once with the
detail rendition left out (what main did before the second reading), in CPU seconds of this one process,
so other load on the machine does not move the ratio. Prints median and mean ms per pair both ways, for
all pairs and for pairs of pages, and how many of them the second reading ran on.
"""

from __future__ import annotations

import argparse
import pickle
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import load_dataset  # noqa: E402
from bench.pair_eval import _pairs  # noqa: E402
from dedup.imaging.compare import compare_pair  # noqa: E402


def _cpu_ms(a, b) -> tuple[float, bool]:
    start = time.process_time()
    result = compare_pair(a, b, strictness="balanced")
    return (time.process_time() - start) * 1000, "detail" in result.evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=400)
    args = parser.parse_args()
    base = Path(args.dataset)
    records = [replace(r, path=str(base / r.path)) for r in load_dataset(base)]
    true_pairs, lookalikes = _pairs(records, 4000, 100_000, random.Random(1))
    sides = pickle.loads(args.cache.read_bytes())
    pairs = [(sides.get(a.path), sides.get(b.path)) for a, b in true_pairs + lookalikes]
    pairs = random.Random(2).sample([(a, b) for a, b in pairs if a and b], args.pairs)
    with_detail, without, pages, read_again = [], [], [], 0
    for a, b in pairs:
        ms, again = _cpu_ms(a, b)
        plain, _ = _cpu_ms(replace(a, detail=None), replace(b, detail=None))
        with_detail.append(ms)
        without.append(plain)
        read_again += again
        if a.detail is not None and b.detail is not None:
            pages.append((ms, plain))
    print(f"{len(pairs)} pairs, {len(pages)} of them pairs of pages, read a second time: {read_again}")
    for label, now, before in (
        ("all pairs", with_detail, without),
        ("pages", [p[0] for p in pages], [p[1] for p in pages]),
    ):
        if now:
            print(
                f"  {label:10} CPU ms per pair, median {statistics.median(now):.1f} (without detail "
                f"{statistics.median(before):.1f}), mean {statistics.mean(now):.1f} "
                f"({statistics.mean(before):.1f}): x{statistics.mean(now) / statistics.mean(before):.2f}"
            )


if __name__ == "__main__":
    main()
