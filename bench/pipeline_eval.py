"""The whole pipeline offline: candidate search, verification and grouping on a labelled set, stage by stage.

    python -m bench.pipeline_eval DIR [--workers 2] [--cache FILE] [--verdicts FILE] [--radius 8]

Fingerprints every file with the pure imaging core (no database, no broker), then does what
`rebuild_clusters` does with the shared index: every candidate pair (an upright hash of either side within
the radius of any searchable hash of the other, or equal bytes), each compared with `compare_pair`, then
every pair inside each component of verified edges (a component past DUPFINDER_MAX_COMPONENT against its
earliest members only), then `anchored_linkage` inside each component. Prints what bench.accuracy prints
for clusters (pairwise precision, recall, F1, recall per category of the original ~ copy pairs) and where
each lost original ~ copy pair was lost: `not_candidate` (never compared and no path of verified edges),
`refused` (compared and refused, or `possible`), `grouping` (one component, split by the grouping rule).
Candidate recall per category is the share of original ~ copy pairs the index offers directly.

Runs in minutes where bench.accuracy --services takes half an hour, so candidate search and grouping can
be measured on development seeds; held-out seeds are still scored end to end with bench.accuracy.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import pickle
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import Record, load_dataset  # noqa: E402
from bench.pair_eval import _side  # noqa: E402 - one way a bench fingerprints a file
from dedup.imaging.compare import Side, compare_pair, refusal_explained, searchable_hashes, upright_hashes  # noqa: E402
from dedup.imaging.grouping import anchored_linkage, components  # noqa: E402
from dedup.imaging.index import pairs_within  # noqa: E402

# The settings' defaults (config/settings/base.py), read here without Django.
MAX_COMPONENT, COMPONENT_SAMPLE, UNALIGNED_SCORE = 50, 8, 0.5

_SIDES: dict[str, Side] = {}


def _init(sides: dict[str, Side]) -> None:
    _SIDES.update(sides)


# What grouping reads of a pair's evidence besides its verdict (`refusal_explained`).
PLACES = ("reason", "compared", "compared_size", "regions")


def _compare(pair: tuple[str, str]) -> tuple[tuple[str, str], tuple[bool, bool, bool, float, dict]]:
    """(duplicate, possible, unaligned, ms, the evidence of the places that differ)"""
    start = time.perf_counter()
    result = compare_pair(_SIDES[pair[0]], _SIDES[pair[1]], strictness="balanced")
    ms = (time.perf_counter() - start) * 1000
    possible = bool(result.evidence.get("possible")) and not result.is_duplicate
    unaligned = not result.is_duplicate and result.evidence.get("verification_score", 1.0) < UNALIGNED_SCORE
    places = {k: result.evidence[k] for k in PLACES if k in result.evidence}
    return pair, (result.is_duplicate, possible, unaligned, ms, places)


def explained_over(verdict_of: Callable[[int, int], tuple[bool, dict] | None]) -> Callable[[int, int, int], bool]:
    """`anchored_linkage`'s `explained` over a bench's verdicts, as dedup.matching.edges.Graph.explained: each
    pair's (duplicate, evidence) by `verdict_of(x, y)`, the lower index being side a."""

    def explained(node: int, member: int, anchor: int) -> bool:
        found = [verdict_of(x, y) for x, y in ((node, member), (anchor, node), (anchor, member))]
        if None in found or found[0][0]:
            return False
        (_, refusal), (_, to_node), (_, to_member) = found
        return refusal_explained(
            refusal, int(node > member), (to_node, int(anchor > node)), (to_member, int(anchor > member))
        )

    return explained


def candidate_pairs(paths: list[str], sides: dict[str, Side], radius: int) -> set[tuple[str, str]]:
    """The pairs the shared index offers: as `rebuild_clusters._candidate_pairs_bulk`."""
    owners, values, upright = [], [], []
    for n, path in enumerate(paths):
        side = sides[path]
        ups = upright_hashes(side.hashes)
        for h in sorted(searchable_hashes(side.hashes)):
            owners.append(n)
            values.append(h)
            upright.append(h in ups)
    owner, up = np.array(owners), np.array(upright)
    found = pairs_within(np.array(values, dtype=np.uint64), radius)
    a, b = owner[found[:, 0]], owner[found[:, 1]]
    keep = (a != b) & (up[found[:, 0]] | up[found[:, 1]])
    pairs = {(paths[min(x, y)], paths[max(x, y)]) for x, y in zip(a[keep], b[keep], strict=True)}
    by_sha: dict[str, list[int]] = defaultdict(list)
    for n, path in enumerate(paths):
        by_sha[sides[path].sha256].append(n)
    for same in by_sha.values():
        pairs |= {(paths[x], paths[y]) for x, y in itertools.combinations(same, 2)}
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--radius", type=int, default=8)
    parser.add_argument("--cache", type=Path, help="keep the fingerprinted sides here (pickle) for the next run")
    parser.add_argument("--verdicts", type=Path, help="keep the pair verdicts here (pickle); drop it after a change")
    parser.add_argument("--show", nargs="*", default=[], help="print lost pairs of these categories")
    args = parser.parse_args()
    base = Path(args.dataset)
    records = [replace(r, path=str(base / r.path)) for r in load_dataset(base)]
    started = time.perf_counter()
    if args.cache and args.cache.exists():
        sides = pickle.loads(args.cache.read_bytes())
    else:
        with multiprocessing.Pool(args.workers) as pool:
            sides = dict(pool.map(_side, [r.path for r in records], chunksize=8))
        if args.cache:
            args.cache.write_bytes(pickle.dumps(sides))
    records = [r for r in records if sides.get(r.path) is not None]
    paths = [r.path for r in records]
    print(f"files {len(paths)} fingerprinted ({time.perf_counter() - started:.0f} s)")

    verdicts: dict[tuple[str, str], tuple[bool, bool, bool, float]] = {}
    if args.verdicts and args.verdicts.exists():
        verdicts = pickle.loads(args.verdicts.read_bytes())
    pool = multiprocessing.Pool(args.workers, initializer=_init, initargs=({p: sides[p] for p in paths},))

    def verify(pairs: set[tuple[str, str]]) -> None:
        missing = sorted(pairs - verdicts.keys())
        verdicts.update(pool.map(_compare, missing, chunksize=8))

    started = time.perf_counter()
    candidates = candidate_pairs(paths, sides, args.radius)
    verify(candidates)
    order = {p: n for n, p in enumerate(paths)}
    duplicate_edges = [(order[a], order[b]) for (a, b) in candidates if verdicts[(a, b)][0]]
    parts = [c for c in components((), duplicate_edges) if len(c) > 1]
    within: set[tuple[str, str]] = set()
    for part in parts:
        sample = part if len(part) <= MAX_COMPONENT else part[:COMPONENT_SAMPLE]
        within |= {(paths[min(x, y)], paths[max(x, y)]) for x in part for y in sample if x != y}
    verify(within)
    pool.close()
    checked = candidates | within
    print(
        f"candidate pairs {len(candidates)}, within components {len(within - candidates)}, "
        f"components {len(parts)} (largest {max(map(len, parts), default=0)}) ({time.perf_counter() - started:.0f} s)"
    )
    if args.verdicts:
        args.verdicts.write_bytes(pickle.dumps(verdicts))

    def same(x: int, y: int) -> bool:
        key = (paths[min(x, y)], paths[max(x, y)])
        return key in checked and verdicts[key][0]

    def undecided(x: int, y: int) -> bool:
        key = (paths[min(x, y)], paths[max(x, y)])
        return key not in checked or verdicts[key][2]

    def verdict_of(x: int, y: int) -> tuple[bool, dict] | None:
        v = verdicts.get((paths[min(x, y)], paths[max(x, y)]))
        return None if v is None else (v[0], v[4])

    explained = explained_over(verdict_of)
    cluster_of: dict[str, int] = {}
    component_of: dict[str, int] = {}
    for n, part in enumerate(parts):
        for v in part:
            component_of[paths[v]] = n
        for group in anchored_linkage(part, same, undecided, explained):
            if len(group) > 1:
                for v in group:
                    cluster_of[paths[v]] = group[0]
    _score(records, order, cluster_of, component_of, candidates, checked, verdicts, args.show)
    times = sorted(v[3] for k, v in verdicts.items() if k in checked)
    print(f"verification ms per pair: median {times[len(times) // 2]:.1f}, p95 {times[int(0.95 * len(times))]:.1f}")


def _score(records: list[Record], order, cluster_of, component_of, candidates, checked, verdicts, show) -> None:  # noqa: ANN001
    by_group: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_group[r.group_id].append(r)
    true_pairs = {
        (min(a.path, b.path), max(a.path, b.path))
        for members in by_group.values()
        for a, b in itertools.combinations(members, 2)
    }
    found = {
        (min(a, b), max(a, b))
        for a, b in itertools.combinations(sorted(cluster_of), 2)
        if cluster_of[a] == cluster_of[b]
    }
    tp = len(found & true_pairs)
    precision, recall = tp / max(1, len(found)), tp / max(1, len(true_pairs))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"true pairs {len(true_pairs)}  predicted {len(found)}  P {precision:.4f}  R {recall:.4f}  F1 {f1:.4f}")
    stages: dict[str, Counter] = defaultdict(Counter)
    offered: dict[str, list[bool]] = defaultdict(list)
    for members in by_group.values():
        for original in (m for m in members if m.transform == "original"):
            for copy in (m for m in members if m is not original):
                # pairs are keyed in ingest order, as candidate_pairs writes them
                key = tuple(sorted((original.path, copy.path), key=order.__getitem__))
                category = copy.category or copy.transform
                offered[category].append(key in candidates)
                if cluster_of.get(original.path) is not None and cluster_of.get(original.path) == cluster_of.get(
                    copy.path
                ):
                    stage = "found"
                elif key in checked and not verdicts[key][0]:
                    stage = "possible" if verdicts[key][1] else "refused"
                elif component_of.get(original.path) is not None and component_of.get(
                    original.path
                ) == component_of.get(copy.path):
                    stage = "grouping"
                else:
                    stage = "not_candidate"
                stages[category][stage] += 1
                if stage != "found" and category in show:
                    print(f"  lost {category} {copy.transform}: {Path(copy.path).name} ({stage})")
    print("\noriginal ~ copy pairs:   found  recall  candidate | not_candidate refused possible grouping")
    total = Counter()
    for category in sorted(stages):
        s = stages[category]
        n = sum(s.values())
        total.update(s)
        hits = offered[category]
        print(
            f"  {category:18} {s['found']:5}/{n:<5} {s['found'] / n:.3f}  {sum(hits) / len(hits):.3f}    | "
            f"{s['not_candidate']:5} {s['refused']:5} {s['possible']:5} {s['grouping']:5}"
        )
    n = sum(total.values())
    print(f"  {'all':18} {total['found']:5}/{n:<5} {total['found'] / n:.3f}")
    families: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        if r.family:
            families[r.family].append(r)
    joined, seen = Counter(), Counter()
    for members in families.values():
        for a, b in itertools.combinations(members, 2):
            if a.group_id != b.group_id:
                seen[a.family_kind] += 1
                joined[a.family_kind] += cluster_of.get(a.path) is not None and cluster_of.get(
                    a.path
                ) == cluster_of.get(b.path)
    print(f"\nlook-alike pairs joined: {sum(joined.values())} of {sum(seen.values())}")
    for kind in sorted(seen):
        rate = f"1 in {seen[kind] / joined[kind]:.0f}" if joined[kind] else "none"
        print(f"  {kind:12} {joined[kind]:5}/{seen[kind]:<6} {rate}")


if __name__ == "__main__":
    main()
