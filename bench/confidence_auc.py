"""How well confidence orders the queue: the AUC of ranking correct clusters above wrong ones.

    python -m bench.confidence_auc DATASET_DIR [--concurrency N]

Ingests a labelled set made by bench.dataset through a real worker on PostgreSQL + Redis (as
bench.accuracy --services does), then reads every cluster with its members' kinds and evidence. A cluster
is correct when all its members belong to one labelled group, wrong otherwise. Prints the AUC (the chance
that a random correct cluster is ranked above a random wrong one, ties counting half) for the review's
confidence (dedup.review.confidence, stored on the cluster) and, side by side, for the lowest verification
score of the members (what the queue used to order by), plus how many distinct values each takes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import _env, _manage, _wait_for_worker  # noqa: E402
from bench.dataset import load_dataset  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="A folder made by bench.dataset")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    group_of = {Path(r.path).name: r.group_id for r in load_dataset(args.dataset)}
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
