"""Where true pairs are lost end to end: candidate search, verification, or grouping inside a component.

Reads a database left by `python -m bench.accuracy --services --keep-db` (point DATABASE_URL at it):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dupfinder_bench_NNN python -m bench.recall_loss DATASET_DIR

Every true pair not predicted is put down to the first stage that lost it: `not_candidate` (no stored hash
within DUPFINDER_MATCH_RADIUS of any query hash, and no path of verified edges joined the two), `rejected`
(verified and refused, reason shown), or `grouping` (both in one component of verified edges, split by the
grouping rule). `--verify-lost` also verifies the pairs never compared, to show what a wider radius would
gain, and `--linkage` replays the grouping rules in dedup.imaging.grouping over the stored verdicts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import load_dataset  # noqa: E402


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def _stage_of(pair, edges, component_of, cluster_of) -> str:  # noqa: ANN001
    a, b = pair
    edge = edges.get(pair)
    if cluster_of.get(a) is not None and cluster_of.get(a) == cluster_of.get(b):
        return "found"
    if edge is not None and edge.is_duplicate:
        return "grouping"
    if component_of.get(a) is not None and component_of.get(a) == component_of.get(b):
        return "grouping" if edge is None else "rejected"
    return "rejected" if edge is not None else "not_candidate"


def _score(groups: list[list[int]], truth: dict[int, str], family: dict[int, str]) -> tuple[float, float, int]:
    found = {(a, b) for g in groups for a, b in itertools.combinations(sorted(g), 2)}
    by_group = defaultdict(list)
    for v, g in truth.items():
        by_group[g].append(v)
    true_pairs = {(a, b) for g in by_group.values() for a, b in itertools.combinations(sorted(g), 2)}
    tp = len(found & true_pairs)
    bad = sum(1 for a, b in found - true_pairs if family.get(a) and family.get(a) == family.get(b))
    return tp / len(found) if found else 1.0, tp / len(true_pairs), bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--verify-lost", action="store_true", help="verify the pairs never compared")
    parser.add_argument("--linkage", action="store_true", help="replay grouping rules over the stored verdicts")
    parser.add_argument("--show", type=int, default=0, help="print this many lost pairs per stage")
    args = parser.parse_args()
    _setup()
    from django.conf import settings

    from collections_app.models import Version
    from dedup.imaging import grouping
    from dedup.imaging.compare import hash_distance
    from dedup.matching.edges import edge_compare as compare
    from dedup.models import ClusterMember, Fingerprint, MatchEdge

    records = {Path(r.path).name: r for r in load_dataset(args.dataset)}
    version_of = {Path(p).name: v for v, p in Version.objects.values_list("pk", "original_path")}
    rec = {version_of[name]: r for name, r in records.items() if name in version_of}
    truth = {v: r.group_id for v, r in rec.items()}
    family = {v: r.family for v, r in rec.items() if r.family}
    prints = {f.version_id: f for f in Fingerprint.objects.select_related("version")}
    edges = {(e.version_a_id, e.version_b_id): e for e in MatchEdge.objects.all()}
    cluster_of = dict(ClusterMember.objects.values_list("version_id", "cluster_id"))
    verified = [pair for pair, e in edges.items() if e.is_duplicate]
    component_of = {v: i for i, c in enumerate(grouping.components(truth, verified)) for v in c}
    radius = settings.DUPFINDER_MATCH_RADIUS

    by_group = defaultdict(list)
    for v, g in truth.items():
        by_group[g].append(v)
    true_pairs = [(a, b) for g in by_group.values() for a, b in itertools.combinations(sorted(g), 2)]
    stages = {pair: _stage_of(pair, edges, component_of, cluster_of) for pair in true_pairs}
    totals = Counter(stages.values())
    print(f"true pairs {len(true_pairs)}: " + ", ".join(f"{k} {n}" for k, n in totals.most_common()))

    print("\noriginal ~ copy, per transform: found / not_candidate / rejected / grouping")
    per: dict[str, Counter] = defaultdict(Counter)
    for (a, b), stage in stages.items():
        ta, tb = rec[a].transform, rec[b].transform
        if "original" in (ta, tb):
            per[tb if ta == "original" else ta][stage] += 1
    for t, c in sorted(per.items()):
        if c["found"] < c.total():
            print(f"  {t:<12} {c['found']:3d} / {c['not_candidate']:3d} / {c['rejected']:3d} / {c['grouping']:3d}")

    lost = [p for p, s in stages.items() if s != "found"]
    pair_kinds = Counter((stages[p], "~".join(sorted((rec[p[0]].transform, rec[p[1]].transform)))) for p in lost)
    print("\nlost pairs by stage and transforms (top 25):")
    for (stage, kinds), n in pair_kinds.most_common(25):
        print(f"  {stage:<14} {kinds:<28} {n}")

    reasons = Counter(edges[p].evidence.get("reason", "?") for p in lost if stages[p] == "rejected")  # codes
    print("\nrejection reasons:", dict(reasons))
    never = [p for p in lost if stages[p] == "not_candidate"]
    distances = Counter(hash_distance(prints[a], prints[b]) for a, b in never)
    print(f"hash distance of pairs never compared (radius {radius}):", dict(sorted(distances.items())))

    for stage in ("not_candidate", "rejected", "grouping"):
        for a, b in [p for p in lost if stages[p] == stage][: args.show]:
            e = edges.get((a, b))
            keys = ("hash_distance", "coverage", "verification_score", "local_max_diff")
            ev = {k: e.evidence.get(k) for k in keys} if e else {}
            print(f"  {stage} {rec[a].group_id} {rec[a].transform}~{rec[b].transform} {ev}")

    if args.verify_lost:
        verdicts: Counter = Counter()
        for a, b in never:
            e = compare(prints[a], prints[b])
            d = e.evidence["hash_distance"]
            verdicts[("dup" if e.is_duplicate else "no", "<=8" if d <= 8 else "<=10" if d <= 10 else ">10")] += 1
        print("\npairs never compared, if verified (verdict, hash distance):", dict(verdicts))

    if args.linkage:
        duplicates = set(verified)
        same = lambda a, b: (min(a, b), max(a, b)) in duplicates  # noqa: E731
        comps = [c for c in grouping.components(truth, verified) if len(c) > 1]
        rules = {"single": lambda nodes, _same: [list(nodes)], "anchored_linkage": grouping.anchored_linkage}
        print("\ngrouping rule over stored verdicts: precision / recall / hard negatives joined")
        for name, rule in rules.items():
            groups = [g for c in comps for g in rule(c, same)]
            p, r, bad = _score(groups, truth, family)
            print(f"  {name:<18} {p:.4f} / {r:.4f} / {bad}")


if __name__ == "__main__":
    main()
