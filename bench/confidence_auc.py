"""How well confidence orders the queue: the AUC of ranking correct clusters above wrong ones.

    python -m bench.confidence_auc DATASET_DIR [--concurrency N]
    python -m bench.confidence_auc DATASET_DIR --offline [--workers 2] [--cache FILE] [--dump FILE]

Ingests a labelled set made by bench.dataset through a real worker on PostgreSQL + Redis (as
bench.accuracy --services does), then reads every cluster with its members' kinds and evidence. A cluster
is correct when all its members belong to one labelled group, wrong otherwise. Prints the AUC (the chance
that a random correct cluster is ranked above a random wrong one, ties counting half) for the review's
confidence (dedup.review.confidence, stored on the cluster) and, side by side, for the lowest verification
score of the members (what the queue used to order by), plus how many distinct values each takes.

--offline forms the clusters without a database or broker, as bench.pipeline_eval does (the pure core's
fingerprints, the index's candidate pairs, `compare_pair`, every pair inside each component, then
`anchored_linkage`), gives each member the kind and evidence of its edge to the anchor (as
dedup.matching.clusters writes them) and the cluster's own pairs, and scores the same confidence function:
minutes instead of half an hour, for trying a change to confidence on development seeds. Clusters are
formed in one pass over all files, where the service forms them file by file; the two agree on the groups
(anchored_linkage depends only on the pairwise verdicts) except in components past the size limit.
"""

import argparse
import itertools
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import _env, _manage, _wait_for_worker  # noqa: E402
from bench.dataset import load_dataset  # noqa: E402
from bench.pair_eval import _side  # noqa: E402
from bench.pipeline_eval import (  # noqa: E402
    COMPONENT_SAMPLE,
    MAX_COMPONENT,
    UNALIGNED_SCORE,
    candidate_pairs,
    explained_over,
)
from dedup.imaging.compare import Side, compare_pair  # noqa: E402
from dedup.imaging.grouping import anchored_linkage, components  # noqa: E402
from dedup.review.confidence import cluster_confidence  # noqa: E402

DUMP = """
import json
from dedup.models import Cluster
rows = []
for c in Cluster.objects.prefetch_related("members__version"):
    members = list(c.members.all())
    if len(members) >= 2:
        rows.append({"confidence": c.confidence, "min_score": min(m.score for m in members),
                     "paths": [m.version.original_path for m in members]})
print(json.dumps(rows))
"""


def auc(scored: list[tuple[float, bool]]) -> float:
    """Mann-Whitney AUC of correct (True) over wrong (False); ties count half."""
    right = [s for s, ok in scored if ok]
    wrong = [s for s, ok in scored if not ok]
    if not right or not wrong:
        return float("nan")
    wins = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return wins / (len(right) * len(wrong))


def ingest_and_dump(dataset_dir: Path, data_dir: Path, concurrency: int) -> list[dict]:
    args = argparse.Namespace(services=True, keep_db=False)
    env = _env(args, data_dir)
    _manage(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
    # Empty the broker database this run uses (redis://host:port/N), not a fixed one another run may be using.
    broker = urlsplit(env["CELERY_BROKER_URL"])
    redis = ["redis-cli", "-h", broker.hostname or "127.0.0.1", "-p", str(broker.port or 6379)]
    subprocess.run([*redis, "-n", broker.path.strip("/") or "0", "flushdb"], check=False, stdout=subprocess.DEVNULL)
    celery = str(Path(sys.executable).with_name("celery"))
    worker = subprocess.Popen(
        [celery, "-A", "config", "worker", "--loglevel=ERROR", f"--concurrency={concurrency}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_worker(env, worker)  # a fixed pause is too short on a loaded machine: ingest then finds none
        _manage(env, "ingest", str(dataset_dir), "--source", "bench", "--wait", "--timeout", "3600")
        out = _manage(env, "shell", "-c", DUMP, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", env["BENCH_DB"]], check=False)


_SIDES: dict[str, Side] = {}
Verdict = tuple[str, float, dict]  # kind ("" when not a duplicate), score, evidence


def _init(sides: dict[str, Side]) -> None:
    _SIDES.update(sides)


def _compare(pair: tuple[str, str]) -> tuple[tuple[str, str], Verdict]:
    result = compare_pair(_SIDES[pair[0]], _SIDES[pair[1]], strictness="balanced")
    return pair, (result.kind, result.score, result.evidence)


def _member(path: str, group: list[str], verdicts: dict[tuple[str, str], Verdict]) -> tuple[str, float, dict]:
    """As dedup.matching.clusters._member_fields: against the anchor; the anchor takes its strongest edge."""
    anchor = group[0]
    if path != anchor:
        return verdicts[(anchor, path)]
    return max((verdicts[(anchor, o)] for o in group[1:]), key=lambda v: v[1])


def offline_clusters(dataset_dir: Path, workers: int, cache: Path | None) -> list[dict]:
    """Clusters of two or more with each member's path, kind, score and evidence, and the group's pair verdicts."""
    paths = sorted(str(dataset_dir / r.path) for r in load_dataset(dataset_dir))  # ingest walks names in order
    if cache and cache.exists():
        sides = pickle.loads(cache.read_bytes())
    else:
        with multiprocessing.Pool(workers) as pool:
            sides = dict(pool.map(_side, paths, chunksize=8))
        if cache:
            cache.write_bytes(pickle.dumps(sides))
    paths = [p for p in paths if sides.get(p) is not None]
    verdicts: dict[tuple[str, str], Verdict] = {}
    with multiprocessing.Pool(workers, initializer=_init, initargs=({p: sides[p] for p in paths},)) as pool:
        candidates = candidate_pairs(paths, sides, 8)
        verdicts.update(pool.map(_compare, sorted(candidates), chunksize=8))
        order = {p: n for n, p in enumerate(paths)}
        edges = [(order[a], order[b]) for (a, b), v in verdicts.items() if v[0]]
        parts = [c for c in components((), edges) if len(c) > 1]
        within = set()
        for part in parts:
            sample = part if len(part) <= MAX_COMPONENT else part[:COMPONENT_SAMPLE]
            within |= {(paths[min(x, y)], paths[max(x, y)]) for x in part for y in sample if x != y}
        verdicts.update(pool.map(_compare, sorted(within - verdicts.keys()), chunksize=8))

    def key(x: int, y: int) -> tuple[str, str]:
        return paths[min(x, y)], paths[max(x, y)]

    def same(x: int, y: int) -> bool:
        return bool(verdicts.get(key(x, y), ("",))[0])

    def undecided(x: int, y: int) -> bool:
        v = verdicts.get(key(x, y))
        return v is None or (not v[0] and v[2].get("verification_score", 1.0) < UNALIGNED_SCORE)

    def verdict_of(x: int, y: int) -> tuple[bool, dict] | None:
        v = verdicts.get(key(x, y))
        return None if v is None else (bool(v[0]), v[2])

    explained = explained_over(verdict_of)

    clusters = []
    for part in parts:
        for group in (g for g in anchored_linkage(part, same, undecided, explained) if len(g) > 1):
            names = [paths[n] for n in group]
            verdict = {(a, b): verdicts.get((a, b)) for a, b in itertools.combinations(sorted(names), 2)}
            members = [_member(p, names, {**verdict, **{(b, a): v for (a, b), v in verdict.items()}}) for p in names]
            clusters.append(
                {
                    "paths": names,
                    "members": [[k, s, e] for k, s, e in members],
                    "pairs": [[a, b, *(v or ("", 0.0, {}))] for (a, b), v in verdict.items()],
                }
            )
    return clusters


def _with_confidence(clusters: list[dict]) -> list[dict]:
    for c in clusters:
        c["confidence"] = cluster_confidence([(kind, evidence) for kind, _score, evidence in c["members"]])
        c["min_score"] = min(score for _kind, score, _evidence in c["members"])
    return clusters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="A folder made by bench.dataset")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--offline", action="store_true", help="form the clusters without database or worker")
    parser.add_argument("--workers", type=int, default=2, help="--offline: processes")
    parser.add_argument("--cache", type=Path, help="--offline: keep the fingerprinted sides here (pickle)")
    parser.add_argument("--dump", type=Path, help="--offline: write the clusters with their evidence here (JSON)")
    args = parser.parse_args()
    group_of = {Path(r.path).name: r.group_id for r in load_dataset(args.dataset)}
    if args.offline:
        clusters = _with_confidence(offline_clusters(Path(args.dataset), args.workers, args.cache))
        if args.dump:
            args.dump.write_text(json.dumps(clusters))
    else:
        with tempfile.TemporaryDirectory(prefix="dupfinder-auc-") as tmp:
            clusters = ingest_and_dump(Path(args.dataset), Path(tmp) / "data", args.concurrency)
    correct = [len({group_of.get(Path(p).name) for p in c["paths"]}) == 1 for c in clusters]
    print(f"clusters {len(clusters)}  correct {sum(correct)}  wrong {len(correct) - sum(correct)}")
    for name, key in (("review confidence", "confidence"), ("lowest verification score", "min_score")):
        values = [c[key] for c in clusters]
        scored = list(zip(values, correct, strict=True))
        print(f"{name:27s} AUC {auc(scored):.3f}  distinct values {len(set(values))}")


if __name__ == "__main__":
    main()
