"""End-to-end accuracy and ingest rate: generate a labelled set, ingest it through a real worker, score the clusters.

    python -m bench.accuracy                 # embedded SQLite + filesystem broker, a fresh data dir
    python -m bench.accuracy --services      # PostgreSQL + Redis (DATABASE_URL / CELERY_BROKER_URL or local defaults)

Prints pairwise precision, recall and F1, recall per transform, hard-negative pairs wrongly joined per
category, and the ingest rate (files per second from the start of ingest to the last version processed).
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import load_dataset, make_dataset  # noqa: E402


def _pairs(groups: dict[str, list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def _env(args, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DATA_DIR=str(data_dir))
    env.pop("DJANGO_MEDIA_ROOT", None)
    if args.services:
        dbname = f"dupfinder_bench_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{dbname}"
        env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
        env["BENCH_DB"] = dbname
    return env


def _manage(env, *args, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def run_pipeline(args, dataset_dir: Path, data_dir: Path) -> tuple[dict, float, int]:
    env = _env(args, data_dir)
    _manage(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
    if args.services:
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=False, stdout=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--loglevel=ERROR",
            f"--concurrency={args.concurrency}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        started = time.monotonic()
        _manage(env, "ingest", str(dataset_dir), "--source", "bench", "--wait", "--timeout", "3600")
        elapsed = time.monotonic() - started
        out = data_dir / "clusters.json"
        _manage(env, "export_clusters", "--output", str(out))
        files = sum(1 for p in dataset_dir.iterdir() if p.suffix != ".json")
        return json.loads(out.read_text()), elapsed, files
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        if args.services and args.keep_db:
            print(f"kept database: DATABASE_URL={env['DATABASE_URL']}  DJANGO_DATA_DIR={data_dir}")
        elif args.services:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", env["BENCH_DB"]], check=False)


def score(records, export) -> None:
    name_of = {Path(r.path).name: r for r in records}
    truth: dict[str, list[str]] = defaultdict(list)
    for r in records:
        truth[r.group_id].append(Path(r.path).name)
    predicted = {str(c["id"]): [m["original_path"] for m in c["members"]] for c in export["clusters"]}
    true_pairs, found = _pairs(truth), _pairs(predicted)
    tp = len(true_pairs & found)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"\nfiles {len(records)}  true pairs {len(true_pairs)}  predicted pairs {len(found)}")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")

    print("\nrecall per transform (pairs original ~ copy):")
    per: dict[str, list[bool]] = defaultdict(list)
    for members in truth.values():
        originals = [m for m in members if name_of[m].transform == "original"]
        for original in originals:
            for m in members:
                if m != original:
                    per[name_of[m].transform].append(frozenset((original, m)) in found)
    for transform, hits in sorted(per.items()):
        print(f"  {transform:<22} {sum(hits):4d}/{len(hits):<4d} {sum(hits) / len(hits):.3f}")
    rotated = [h for t, hits in per.items() if name_of and any(k in t for k in ("rot", "mirror", "flip")) for h in hits]
    if rotated:
        print(f"  rotated/mirrored overall {sum(rotated) / len(rotated):.3f}")

    print("\nhard negatives (different pictures that look alike) wrongly joined:")
    families: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r.family:
            families[r.family].append(Path(r.path).name)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for members in families.values():
        kind = name_of[members[0]].family_kind
        for a, b in itertools.combinations(members, 2):
            if name_of[a].group_id != name_of[b].group_id:
                by_kind[kind].append(frozenset((a, b)) in found)
    total = [h for hits in by_kind.values() for h in hits]
    for kind, hits in sorted(by_kind.items()):
        print(f"  {kind:<10} {sum(hits):4d}/{len(hits):<5d}")
    if total:
        rate = f"1 in {len(total) / sum(total):.0f}" if sum(total) else f"none in {len(total)}"
        print(f"  all        {sum(total):4d}/{len(total):<5d} = {rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="Existing dataset folder (made by bench.dataset); generated if absent.")
    parser.add_argument("--originals", type=int, default=120)
    parser.add_argument("--services", action="store_true", help="PostgreSQL + Redis instead of SQLite + filesystem.")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep-db", action="store_true", help="Keep the PostgreSQL database (for bench.recall_loss).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dupfinder-bench-") as tmp:
        dataset_dir = Path(args.dataset) if args.dataset else Path(tmp) / "dataset"
        if not (dataset_dir / "labels.json").exists():
            t = time.monotonic()
            make_dataset(dataset_dir, n_originals=args.originals)
            print(f"generated dataset in {time.monotonic() - t:.0f} s")
        records = load_dataset(dataset_dir)
        export, elapsed, files = run_pipeline(args, dataset_dir, Path(tmp) / "data")
        setup = "PostgreSQL + Redis" if args.services else "SQLite + filesystem broker"
        print(
            f"\ningest + processing + matching: {files} files in {elapsed:.1f} s = {files / elapsed:.1f} files/s "
            f"({setup}, {args.concurrency} worker processes)"
        )
        score(records, export)


if __name__ == "__main__":
    main()
