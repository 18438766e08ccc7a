"""End-to-end accuracy and ingest rate: generate a labelled set, ingest it through a real worker, score the clusters.

    python -m bench.accuracy                 # embedded SQLite + filesystem broker, a fresh data dir
    python -m bench.accuracy --services      # PostgreSQL + Redis (DATABASE_URL / CELERY_BROKER_URL or local defaults)

Prints pairwise precision, recall and F1, recall per transform, per category, per content type and per
source (real or drawn), look-alike pairs wrongly joined per family kind (and as "1 in N"), clusters that
join two different documents or forms, "possible" pairs (a third outcome, counted as not found), and the
ingest rate (files per second from the start of ingest to the last version processed).
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
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import load_dataset, make_dataset  # noqa: E402


def _pairs(groups: dict[str, list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for members in groups.values() for p in itertools.combinations(sorted(members), 2)}


def _env(args, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.local", DJANGO_DATA_DIR=str(data_dir))
    env.pop("DJANGO_MEDIA_ROOT", None)
    if args.services:
        # BENCH_DB_PREFIX keeps concurrent runs (each with its own databases) apart.
        dbname = f"{os.environ.get('BENCH_DB_PREFIX', 'dupfinder_bench')}_{os.getpid()}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{dbname}"
        env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
        env["BENCH_DB"] = dbname
    return env


def _manage(env, *args, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def _wait_for_worker(env: dict[str, str], worker: subprocess.Popen, timeout: float = 300) -> None:
    """Until the worker answers a ping: on a loaded machine it takes far longer to start than a fixed pause."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit("The Celery worker exited at start-up.")
        answer = subprocess.run(
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "inspect", "ping", "--timeout", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if answer.returncode == 0 and "pong" in answer.stdout:
            return
        time.sleep(1)
    raise SystemExit("No Celery worker answered within %.0f s." % timeout)


def run_pipeline(args, dataset_dir: Path, data_dir: Path) -> tuple[dict, float, int]:
    env = _env(args, data_dir)
    _manage(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
    if args.services:  # the broker's own db, so two runs on other dbs never empty each other's queue
        db = urlparse(env["CELERY_BROKER_URL"]).path.lstrip("/") or "0"
        subprocess.run(["redis-cli", "-n", db, "flushdb"], check=False, stdout=subprocess.DEVNULL)
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
        _wait_for_worker(env, worker)
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


# Labels written before categories existed name only the transform.
LEGACY_CATEGORY = {
    "exact": "exact",
    "png_resave": "same_pixels",
    "meta_strip": "same_pixels",
    "tiff": "same_pixels",
    "webp": "reencode",
    "jpeg40": "reencode",
    "resize50": "resize",
    "resize25": "resize",
    "crop": "crop",
    "border": "border_mat",
    "rescan": "rescan",
    "grey": "grey",
    "watermark": "caption_watermark",
    "rot90": "rotate_mirror",
    "rot180": "rotate_mirror",
    "rot270": "rotate_mirror",
    "mirror_h": "rotate_mirror",
    "mirror_v": "rotate_mirror",
}
ONE_REGION = ("form_field", "date_stamp", "note")
PAPER = ("document", "form")


def _category(r) -> str:
    return r.category or LEGACY_CATEGORY.get(r.transform, "?")


def _transform_key(r) -> str:
    """Combinations are listed by how many edits they chain, not one line per order of edits."""
    if _category(r) == "combined":
        return f"combined/{r.transform.count('+')} edits"
    return r.transform


def _rate(hits: list[bool]) -> str:
    return f"{sum(hits):4d}/{len(hits):<5d} {sum(hits) / len(hits):.3f}"


def _one_in(joined: int, total: int) -> str:
    return f"1 in {total / joined:.0f}" if joined else f"none in {total}"


def _copy_pairs(records, truth, name_of) -> list[tuple[str, str]]:
    """(original, copy) file pairs of every group."""
    out = []
    for members in truth.values():
        for original in (m for m in members if name_of[m].transform == "original"):
            out += [(original, m) for m in members if m != original]
    return out


def score(records, export) -> None:
    name_of = {Path(r.path).name: r for r in records}
    truth: dict[str, list[str]] = defaultdict(list)
    for r in records:
        truth[r.group_id].append(Path(r.path).name)
    predicted = {str(c["id"]): [Path(m["original_path"]).name for m in c["members"]] for c in export["clusters"]}
    # "possible" pairs are a third outcome, reported for a person to decide: never counted as found.
    possible = {frozenset(Path(path).name for path in p["original_paths"]) for p in export.get("possible") or []}
    true_pairs, found = _pairs(truth), _pairs(predicted) - possible
    tp = len(true_pairs & found)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"\nfiles {len(records)}  true pairs {len(true_pairs)}  predicted pairs {len(found)}")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")

    copy_pairs = [(o, m, frozenset((o, m)) in found) for o, m in _copy_pairs(records, truth, name_of)]
    print("\nrecall per transform (pairs original ~ copy):")
    per: dict[str, list[bool]] = defaultdict(list)
    for _, m, hit in copy_pairs:
        per[_transform_key(name_of[m])].append(hit)
    for transform, hits in sorted(per.items()):
        print(f"  {transform:<22} {sum(hits):4d}/{len(hits):<4d} {sum(hits) / len(hits):.3f}")
    rotated = [h for t, hits in per.items() if name_of and any(k in t for k in ("rot", "mirror", "flip")) for h in hits]
    if rotated:
        print(f"  rotated/mirrored overall {sum(rotated) / len(rotated):.3f}")
    _recall_by(copy_pairs, name_of)

    print("\nhard negatives (different pictures that look alike) wrongly joined:")
    families: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r.family:
            families[r.family].append(Path(r.path).name)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    possible_lookalike = 0
    for members in families.values():
        kind = name_of[members[0]].family_kind
        for a, b in itertools.combinations(members, 2):
            if name_of[a].group_id != name_of[b].group_id:
                pair = frozenset((a, b))
                by_kind[kind].append(pair in found)
                possible_lookalike += pair in possible
    total = [h for hits in by_kind.values() for h in hits]
    for kind, hits in sorted(by_kind.items()):
        print(f"  {kind:<10} {sum(hits):4d}/{len(hits):<5d}")
    if total:
        rate = f"1 in {len(total) / sum(total):.0f}" if sum(total) else f"none in {len(total)}"
        print(f"  all        {sum(total):4d}/{len(total):<5d} = {rate}")
    _lookalikes_joined(by_kind)
    _paper_clusters(predicted, name_of)
    _possible(possible, true_pairs, possible_lookalike)


def _recall_by(copy_pairs, name_of) -> None:
    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_content: dict[str, list[bool]] = defaultdict(list)
    per_source: dict[str, list[bool]] = defaultdict(list)
    for o, m, hit in copy_pairs:
        per_cat[_category(name_of[m])].append(hit)
        per_content[name_of[o].content].append(hit)
        per_source["real" if name_of[o].source else "drawn"].append(hit)
    print("\nrecall per category (pairs original ~ copy):")
    for cat, hits in sorted(per_cat.items()):
        print(f"  {cat:<22} {_rate(hits)}")
    print("\nrecall per content (pairs original ~ copy):")
    for content, hits in sorted(per_content.items()):
        print(f"  {content:<22} {_rate(hits)}")
    print("\nrecall per source (pairs original ~ copy):")
    for source, hits in sorted(per_source.items()):
        print(f"  {source:<22} {_rate(hits)}")


def _lookalikes_joined(by_kind: dict[str, list[bool]]) -> None:
    print("\nlisted look-alike pairs joined per family_kind (target: at most 1 in 500):")
    for kind, hits in sorted(by_kind.items()):
        print(f"  {kind:<12} {sum(hits):5d}/{len(hits):<6d} {_one_in(sum(hits), len(hits))}")
    one = [h for k in ONE_REGION for h in by_kind.get(k, [])]
    if one:
        print(
            f"  one-region   {sum(one):5d}/{len(one):<6d} {_one_in(sum(one), len(one))}  (form_field, date_stamp, note)"
        )
    every = [h for hits in by_kind.values() for h in hits]
    if every:
        print(f"  overall      {sum(every):5d}/{len(every):<6d} {_one_in(sum(every), len(every))}")


def _paper_clusters(predicted: dict[str, list[str]], name_of) -> None:
    """Clusters holding two different documents or forms: the error an archive can least afford."""
    clusters, pairs = 0, 0
    for members in predicted.values():
        groups = {name_of[m].group_id for m in members if m in name_of and name_of[m].content in PAPER}
        if len(groups) > 1:
            clusters += 1
            sizes = [sum(1 for m in members if m in name_of and name_of[m].group_id == g) for g in groups]
            pairs += (sum(sizes) ** 2 - sum(s * s for s in sizes)) // 2
    print(f"\nclusters joining two different documents or forms: {clusters} ({pairs} file pairs across groups)")


def _possible(possible: set, true_pairs: set, lookalike: int) -> None:
    copies = len(possible & true_pairs)
    other = len(possible) - copies - lookalike
    print(
        f"possible pairs (reported for review, counted as not found above): {len(possible)} "
        f"(true copies {copies}, listed look-alikes {lookalike}, other different pictures {other})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="Existing dataset folder (made by bench.dataset); generated if absent.")
    parser.add_argument("--originals", type=int, default=120)
    parser.add_argument("--services", action="store_true", help="PostgreSQL + Redis instead of SQLite + filesystem.")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--save-export", help="Also write export_clusters' output here, to score it again later.")
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
        if args.save_export:
            Path(args.save_export).write_text(json.dumps(export, ensure_ascii=False))
        score(records, export)


if __name__ == "__main__":
    main()
