"""Verification alone, pair by pair, on a labelled set: what the comparison says of true pairs and look-alikes.

    python -m bench.pair_eval DIR [--workers 2] [--sample 4000] [--show CATEGORY]

Fingerprints every file with the pure imaging core (no database, no broker), then compares, with
`compare_pair` as matching does, every true pair between an original and its copy and every listed look-alike
pair between members of one family (originals and their copies). Prints the share of true pairs found per
category (a `possible` outcome counts as not found, and is counted apart) and look-alikes joined per family
kind as "1 in N", with the median time per pair. Candidate search and grouping are left out: they are
bench.accuracy's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import Record, load_dataset  # noqa: E402
from dedup.imaging.compare import Side, compare_pair, fingerprint_side  # noqa: E402
from dedup.imaging.fingerprint import fingerprint_file  # noqa: E402

_SIDES: dict[str, Side] = {}


def _side(path: str) -> tuple[str, Side | None]:
    try:
        fp = fingerprint_file(path, preview=False)  # as the worker fingerprints
    except Exception:  # noqa: BLE001 - a file the core refuses simply has no side
        return path, None
    return path, fingerprint_side(fp)


def _init(sides: dict[str, Side]) -> None:
    _SIDES.update(sides)


def _compare(pair: tuple[str, str]) -> tuple[tuple[str, str], str, float, str]:
    a, b = _SIDES.get(pair[0]), _SIDES.get(pair[1])
    if a is None or b is None:
        return pair, "", 0.0, "unreadable"
    start = time.perf_counter()
    result = compare_pair(a, b, strictness="balanced")
    elapsed = (time.perf_counter() - start) * 1000
    outcome = result.kind or ("possible" if result.evidence.get("possible") else "")
    ev = result.evidence
    reason = f"{ev.get('reason', '')} {ev.get('reason_params') or ''} {ev.get('detail', '')}"  # code and numbers
    return pair, outcome, elapsed, reason


def _pairs(records: list[Record], sample: int, true_sample: int, rng: random.Random) -> tuple[list, list]:
    by_group: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_group[r.group_id].append(r)
    true_pairs = []
    for members in by_group.values():
        originals = [m for m in members if m.transform == "original"]
        for o in originals[:1]:
            true_pairs += [(o, m) for m in members if m is not o]
    by_family: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.family:
            by_family[r.family].append(r)
    lookalikes = [
        (a, b)
        for members in by_family.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
        if a.group_id != b.group_id
    ]
    if len(lookalikes) > sample:
        lookalikes = rng.sample(lookalikes, sample)
    if len(true_pairs) > true_sample:
        true_pairs = rng.sample(true_pairs, true_sample)
    return true_pairs, lookalikes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=4000, help="look-alike pairs compared at most")
    parser.add_argument("--true-sample", type=int, default=100_000, help="true pairs compared at most")
    parser.add_argument("--show", nargs="*", default=[], help="print failing pairs of these categories / kinds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, help="keep the fingerprinted sides here (pickle) for the next run")
    args = parser.parse_args()
    base = Path(args.dataset)
    records = [replace(r, path=str(base / r.path)) for r in load_dataset(base)]
    true_pairs, lookalikes = _pairs(records, args.sample, args.true_sample, random.Random(args.seed))
    paths = sorted({r.path for pair in true_pairs + lookalikes for r in pair})
    if args.cache and args.cache.exists():
        sides = pickle.loads(args.cache.read_bytes())
    else:
        with multiprocessing.Pool(args.workers) as pool:
            sides = dict(pool.map(_side, paths, chunksize=16))
        if args.cache:
            args.cache.write_bytes(pickle.dumps(sides))
    with multiprocessing.Pool(args.workers, initializer=_init, initargs=(sides,)) as pool:
        keyed = [(a.path, b.path) for a, b in true_pairs + lookalikes]
        results = {pair: rest for pair, *rest in pool.map(_compare, keyed, chunksize=16)}
    found, total, possible = Counter(), Counter(), Counter()
    times = []
    for a, b in true_pairs:
        outcome, ms, reason = results[(a.path, b.path)]
        times.append(ms)
        key = b.category if b.transform != "original" else "original"
        total[key] += 1
        found[key] += bool(outcome) and outcome != "possible"
        possible[key] += outcome == "possible"
        if not outcome and (key in args.show or b.content in args.show):
            print(f"  lost {key} {b.transform} {b.content}: {Path(b.path).name} <- {Path(a.path).name}: {reason}")
    n_found, n_total = sum(found.values()), sum(total.values())
    print(f"true pairs: {n_total}, found {n_found} ({n_found / max(1, n_total):.3f})")
    for key in sorted(total):
        print(f"  {key:18} {found[key]:5}/{total[key]:<5} {found[key] / total[key]:.3f}  possible {possible[key]}")
    joined, seen, maybe = Counter(), Counter(), Counter()
    for a, b in lookalikes:
        outcome, ms, reason = results[(a.path, b.path)]
        times.append(ms)
        seen[a.family_kind] += 1
        joined[a.family_kind] += bool(outcome) and outcome != "possible"
        maybe[a.family_kind] += outcome == "possible"
        if outcome and outcome != "possible" and a.family_kind in args.show:
            print(f"  joined {a.family_kind}: {Path(a.path).name} ~ {Path(b.path).name}: {outcome} {reason}")
    print(f"look-alike pairs: {sum(seen.values())}, joined {sum(joined.values())}")
    for key in sorted(seen):
        rate = f"1 in {seen[key] / joined[key]:.0f}" if joined[key] else "none"
        print(f"  {key:12} {joined[key]:5}/{seen[key]:<6} {rate:>12}  possible {maybe[key]}")
    print(f"median ms per pair: {statistics.median(times):.1f}, p95 {sorted(times)[int(0.95 * len(times))]:.1f}")


if __name__ == "__main__":
    main()
