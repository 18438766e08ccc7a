"""Time pair verification per pair on candidate pairs of a labelled set, optionally against a baseline verify.py."""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import random
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

import __main__
import dedup.imaging.verify
from bench.dataset import load_dataset
from bench.verify_eval import Print, candidates, fingerprint_all

__main__.Print = Print  # the prints cache was pickled by `python -m bench.verify_eval`, as __main__.Print


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_baseline", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _pairs(data: Path, radius: int, n: int, seed: int) -> list[tuple[object, object]]:
    """n candidate pairs (not exact copies), grouped by first image as ingest meets them."""
    records = load_dataset(data)
    prints, _, _ = fingerprint_all(records, data, use_project=True)
    cands = [k for k, (d, _) in candidates(prints, radius).items() if d <= radius]
    cands = [(i, j) for i, j in cands if prints[i].sha256 != prints[j].sha256]
    chosen = sorted(random.Random(seed).sample(cands, min(n, len(cands))))
    return [(prints[i].rendition, prints[j].rendition) for i, j in chosen]


def _time(module: ModuleType, pairs: list, strictness: str) -> np.ndarray:
    out = []
    for a, b in pairs:
        start = time.perf_counter()
        module.verify_pair(a, b, strictness=strictness)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, help="dataset directory made by bench.dataset (with a prints cache)")
    parser.add_argument("--baseline", type=Path, help="another verify.py to time beside dedup/verify.py")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--radius", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the per-pair minimum is kept")
    parser.add_argument("--strictness", default="balanced")
    parser.add_argument("--profile", action="store_true", help="cProfile dedup/verify.py instead of timing")
    args = parser.parse_args()
    pairs = _pairs(args.data, args.radius, args.pairs, seed=1)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(_time, dedup.imaging.verify, pairs, args.strictness)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    modules = {"current": dedup.imaging.verify}
    if args.baseline:
        modules = {"baseline": _load(args.baseline), **modules}
    # Rounds alternate between implementations so background load hits both alike; the minimum per pair
    # over rounds drops most of the noise of a shared machine.
    times = {name: [] for name in modules}
    for _ in range(args.rounds):
        for name, module in modules.items():
            times[name].append(_time(module, pairs, args.strictness))
    print(f"{len(pairs)} pairs, radius {args.radius}, strictness {args.strictness}, automatic transforms")
    print(f"{'':10s} {'median ms':>10s} {'p90 ms':>8s} {'mean ms':>8s} {'max ms':>8s}")
    for name, runs in times.items():
        best = np.min(runs, axis=0)
        print(f"{name:10s} {np.median(best):10.1f} {np.percentile(best, 90):8.1f} {best.mean():8.1f} {best.max():8.1f}")


if __name__ == "__main__":
    main()
