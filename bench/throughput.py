"""Ingest throughput side by side: this tree and a baseline tree, 1, 2 and 4 worker processes, fresh database each.

    git archive main | tar -x -C /tmp/throughput-base && ln -s $PWD/.venv /tmp/throughput-base/.venv
    .venv/bin/python -m bench.throughput --dataset DIR --base /tmp/throughput-base [--concurrency 1,2,4]

For every tree and concurrency: a new PostgreSQL database, a flushed Redis db, a Celery worker (prefork) started
through a probe that wraps the processing stages, then `ingest DIR --wait`. Printed per run and as the ratio
head / base: files per second (ingest start to the last version done), CPU per file by stage (measured in the
worker with process_time around each stage), time spent waiting for a matching lock as a share of worker wall
time, pairs verified, pairs verified inside a lock, pairs verified twice (by two workers or two runs), the
rate per 1,000 files stored, and whether both trees end in the same clusters. `--profile` adds a cProfile of
`version_process` (one solo worker per tree) and prints its top functions. Not part of the pytest suite.

    .venv/bin/python -m bench.throughput --dataset DIR --embedded [--base TREE] [--concurrency 2]

`--embedded` compares stacks instead of trees: the head tree on PostgreSQL + Redis and on the embedded default
of `make run` (SQLite in a fresh data folder, the filesystem broker), one after the other in the same run, and
prints embedded / PostgreSQL; with `--base` the base tree's embedded run is printed beside it. THROUGHPUT_DB_PREFIX
and THROUGHPUT_REDIS_DB keep parallel runs apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
REDIS_DB = int(os.environ.get("THROUGHPUT_REDIS_DB", "7"))
DB_PREFIX = os.environ.get("THROUGHPUT_DB_PREFIX", "dupfinder_throughput")

# (module, attribute, stage): the stage functions wrapped in the worker; missing ones are skipped, so the
# probe runs against older trees too. CPU is counted once, in the outermost wrapped stage.
STAGES = [
    ("dedup.services", "fingerprint_file", "decode + hash + thumbnails"),
    ("dedup.services", "fingerprint_record", "fingerprint writes"),
    ("dedup.matching.clusters", "candidates_for", "candidate query"),
    ("dedup.matching.edges", "edge_compare", "verification"),
    ("dedup.matching.edges", "pairs_precheck", "pre-check"),
    ("dedup.matching.clusters", "clusters_sync", "cluster writes"),
]
LOCKS = [("dedup.matching.clusters", "match_lock"), ("dedup.matching.clusters", "component_lock")]


# --- the probe, inside each worker ------------------------------------------------------------------------


def _probe_install(out_dir: Path, profile: bool) -> None:
    """Wrap the stages of version_process; one JSON line per processed version goes to out_dir/<pid>.jsonl."""
    import importlib

    state = {"stage": None, "cpu": defaultdict(float), "pairs": [], "in_lock": False, "lock_wait": 0.0}
    state["lock_held_since"] = None
    state["lock_held"] = 0.0
    state["in_lock_pairs"] = 0

    def wrap_stage(module, name, stage):
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            if state["stage"] is not None:
                return original(*args, **kwargs)
            state["stage"] = stage
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                state["cpu"][stage] += time.process_time() - start
                state["stage"] = None

        setattr(module, name, wrapped)

    def wrap_compare(module):
        inner = module.edge_compare

        def compare(a, b, *args, **kwargs):
            state["pairs"].append((a.version_id, b.version_id))
            if state["lock_held_since"] is not None:
                state["in_lock_pairs"] += 1
            return inner(a, b, *args, **kwargs)

        module.edge_compare = compare

    def wrap_lock(module, name):
        original = getattr(module, name)

        def locked(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                now = time.perf_counter()
                state["lock_wait"] += now - start
                if state["lock_held_since"] is None:
                    state["lock_held_since"] = now

        setattr(module, name, locked)

    for module_name, name, stage in STAGES:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            if name == "edge_compare":
                wrap_compare(module)
            wrap_stage(module, name, stage)
    for module_name, name in LOCKS:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            wrap_lock(module, name)

    clusters = importlib.import_module("dedup.matching.clusters")
    version_match = clusters.version_match

    def match(*args, **kwargs):
        try:
            return version_match(*args, **kwargs)
        finally:
            if state["lock_held_since"] is not None:
                state["lock_held"] += time.perf_counter() - state["lock_held_since"]
                state["lock_held_since"] = None

    clusters.version_match = match
    importlib.import_module("dedup.services").version_match = match

    services = importlib.import_module("dedup.services")
    process = services.version_process
    profiler = None
    if profile:
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        atexit.register(lambda: profiler.dump_stats(str(out_dir / f"{os.getpid()}.prof")))

    def version_process(*args, **kwargs):
        for key in ("cpu", "pairs"):
            state[key] = defaultdict(float) if key == "cpu" else []
        state["lock_wait"] = state["lock_held"] = 0.0
        state["in_lock_pairs"] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        try:
            return process(*args, **kwargs)
        finally:
            if profiler:
                profiler.disable()
            record = {
                "version": kwargs.get("version_id"),
                "cpu": time.process_time() - cpu,
                "wall": time.perf_counter() - wall,
                "stages": dict(state["cpu"]),
                "pairs": state["pairs"],
                "lock_wait": state["lock_wait"],
                "lock_held": state["lock_held"],
                "in_lock_pairs": state["in_lock_pairs"],
            }
            with open(out_dir / f"{os.getpid()}.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")

    services.version_process = version_process
    importlib.import_module("dedup.tasks").version_process = version_process


def probe_worker(argv: list[str]) -> None:
    """Entry point of the worker subprocess: Django set up, stages wrapped, then Celery's own main."""
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    _probe_install(Path(os.environ["THROUGHPUT_PROBE_DIR"]), os.environ.get("THROUGHPUT_PROFILE") == "1")
    from celery.__main__ import main

    sys.argv = ["celery", *argv]
    main()


# --- the runner ---------------------------------------------------------------------------------------------


def _python(tree: Path) -> str:
    venv = tree / ".venv" / "bin" / "python"
    return str(venv if venv.exists() else Path(sys.executable))


def _psql(dbname: str, sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-At", "-F", "\t", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def _wait_for_worker(python: str, tree: Path, env: dict[str, str]) -> None:
    """Until the worker answers a ping: a loaded machine can take far longer than a fixed pause to start it."""
    ping = "from config.celery_app import app; import sys; sys.exit(0 if app.control.ping(timeout=1) else 1)"
    for _ in range(120):
        if subprocess.run([python, "-c", ping], cwd=tree, env=env, capture_output=True).returncode == 0:
            return
    raise RuntimeError("the worker did not answer within two minutes")


def run_once(
    tree: Path, dataset: Path, concurrency: int, label: str, *, profile: bool = False, embedded: bool = False
) -> dict:
    dbname = f"{DB_PREFIX}_{label}_{concurrency}{'_prof' if profile else ''}"
    tmp = Path(tempfile.mkdtemp(prefix=f"throughput-{label}-"))
    probe_dir = tmp / "probe"
    probe_dir.mkdir()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DATA_DIR=str(tmp / "data"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{dbname}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        THROUGHPUT_PROBE_DIR=str(probe_dir),
        THROUGHPUT_PROFILE="1" if profile else "0",
        DJANGO_DEBUG="0",
    )
    env.pop("DJANGO_MEDIA_ROOT", None)
    if embedded:  # what `make run` uses: the SQLite file and the broker folder under DJANGO_DATA_DIR
        env.pop("DATABASE_URL")
        env["CELERY_BROKER_URL"] = "filesystem://"
        query = _sqlite_query(tmp / "data" / "dupfinder.sqlite3")
    else:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", dbname], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
        subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=False, stdout=subprocess.DEVNULL)
        query = lambda sql: _psql(dbname, sql)  # noqa: E731
    python = _python(tree)
    manage = [python, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    pool = ["--pool=solo"] if profile else [f"--concurrency={concurrency}"]
    worker = subprocess.Popen(
        [python, str(Path(__file__).resolve()), "--probe-worker", "-A", "config", "worker", "--loglevel=ERROR", *pool],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "worker.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        _wait_for_worker(python, tree, env)
        started = time.monotonic()
        subprocess.run(
            [*manage, "ingest", str(dataset), "--source", "bench", "--wait", "--timeout", "7200"],
            cwd=tree,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        pending = "SELECT count(*) FROM collections_app_version WHERE status IN ('pending', 'processing')"
        while str(query(pending)[0][0]) != "0":
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        subprocess.run(
            [*manage, "export_clusters", "--output", str(tmp / "clusters.json")], cwd=tree, env=env, check=True
        )
        processed = query(
            "SELECT processed_at FROM collections_app_version WHERE status = 'done' ORDER BY processed_at"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    records = [json.loads(line) for path in probe_dir.glob("*.jsonl") for line in path.read_text().splitlines()]
    result = {
        "elapsed": elapsed,
        "concurrency": 1 if profile else concurrency,
        "records": records,
        "processed": [_epoch(r[0]) for r in processed],
        "clusters": json.loads((tmp / "clusters.json").read_text()),
        "profiles": sorted(str(p) for p in probe_dir.glob("*.prof")),
    }
    if not embedded:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", dbname], check=False)
    return result


def _sqlite_query(path: Path):
    def query(sql: str) -> list[tuple]:
        with sqlite3.connect(path, timeout=30) as conn:
            return conn.execute(sql).fetchall()

    return query


def _epoch(stamp: str) -> float:
    """processed_at as psql prints it (2026-12-01 22:05:12.123+00) or as SQLite stores it (ISO text)."""
    stamp = stamp.strip()
    if stamp.endswith(("+00", "-00")):
        stamp += ":00"
    return datetime.fromisoformat(stamp).timestamp()


# --- the figures ---------------------------------------------------------------------------------------------


def _cluster_sets(export: dict) -> set[frozenset[str]]:
    groups = export.get("clusters", export) if isinstance(export, dict) else export
    found = set()
    for cluster in groups:
        members = cluster.get("members", cluster) if isinstance(cluster, dict) else cluster
        paths = [m.get("path") or m.get("original_path") or str(m) if isinstance(m, dict) else str(m) for m in members]
        found.add(frozenset(paths))
    return found


def summarise(result: dict) -> dict:
    records = result["records"]
    files = max(len(result["processed"]), 1)
    stages: Counter = Counter()
    for record in records:
        stages.update(record["stages"])
        stages["other"] += record["cpu"] - sum(record["stages"].values())
    pairs = Counter((min(a, b), max(a, b)) for record in records for a, b in record["pairs"])
    worker_wall = max(result["elapsed"] * result["concurrency"], 1e-9)
    rates = []
    stamps = result["processed"]
    for start in range(0, len(stamps) - 999, 1000):
        span = stamps[start + 999] - stamps[start]
        rates.append(1000 / span if span > 0 else float("inf"))
    return {
        "files": files,
        "seconds": result["elapsed"],
        "files_per_s": files / result["elapsed"],
        "cpu_ms": 1000 * sum(r["cpu"] for r in records) / files,
        "wall_ms": 1000 * sum(r["wall"] for r in records) / files,
        "idle_pct": 100 * max(0.0, 1 - sum(r["wall"] for r in records) / worker_wall),
        "stages_ms": {k: 1000 * v / files for k, v in stages.items()},
        "lock_wait_pct": 100 * sum(r["lock_wait"] for r in records) / worker_wall,
        "lock_held_pct": 100 * sum(r["lock_held"] for r in records) / worker_wall,
        "pairs": sum(pairs.values()),
        "pairs_per_file": sum(pairs.values()) / files,
        "in_lock_pairs": sum(r["in_lock_pairs"] for r in records),
        "twice": sum(1 for n in pairs.values() if n > 1),
        "rates": rates,
        "clusters": _cluster_sets(result["clusters"]),
    }


def _ratio(head: float, base: float) -> str:
    return f"{head / base:.2f}x" if base else "-"


def print_pair(concurrency: int, base: dict, head: dict) -> None:
    print(f"\n== concurrency {concurrency}: {head['files']} files (base {base['files']})")
    rows = [
        ("files/s", "files_per_s", "{:.2f}"),
        ("CPU per file (ms)", "cpu_ms", "{:.1f}"),
        ("pairs verified per file", "pairs_per_file", "{:.2f}"),
        ("pairs verified", "pairs", "{:d}"),
        ("pairs verified inside a lock", "in_lock_pairs", "{:d}"),
        ("pairs verified twice", "twice", "{:d}"),
        ("lock wait (% of worker wall)", "lock_wait_pct", "{:.1f}"),
        ("lock held (% of worker wall)", "lock_held_pct", "{:.1f}"),
    ]
    print(f"{'':34} {'base':>10} {'head':>10} {'head/base':>10}")
    for name, key, fmt in rows:
        print(f"{name:34} {fmt.format(base[key]):>10} {fmt.format(head[key]):>10} {_ratio(head[key], base[key]):>10}")
    print("CPU per file by stage (ms):")
    for stage in sorted(set(base["stages_ms"]) | set(head["stages_ms"])):
        b, h = base["stages_ms"].get(stage, 0.0), head["stages_ms"].get(stage, 0.0)
        print(f"  {stage:32} {b:>10.1f} {h:>10.1f} {_ratio(h, b):>10}")
    if head["rates"] or base["rates"]:
        print("files/s per 1,000 stored: base", [round(r, 1) for r in base["rates"]])
        print("                          head", [round(r, 1) for r in head["rates"]])
    same = base["clusters"] == head["clusters"]
    differ = len(base["clusters"] ^ head["clusters"])
    print(f"clusters: base {len(base['clusters'])}, head {len(head['clusters'])}, identical: {same} ({differ} differ)")


def print_profile(label: str, paths: list[str], top: int) -> None:
    import pstats

    if not paths:
        return
    print(f"\n== cProfile of version_process, {label} (cumulative, top {top})")
    stats = pstats.Stats(*paths)
    stats.sort_stats("cumulative").print_stats(top)


def print_stacks(concurrency: int, postgres: dict, embedded: dict, base_embedded: dict | None) -> None:
    print(f"\n== concurrency {concurrency}: {embedded['files']} files, head tree on two stacks")
    columns = [("postgres+redis", postgres), ("embedded", embedded)]
    if base_embedded:
        columns.append(("base embedded", base_embedded))
    print(f"{'':34}" + "".join(f"{name:>16}" for name, _ in columns))
    for name, key, fmt in [
        ("files", "files", "{:d}"),
        ("files/s", "files_per_s", "{:.2f}"),
        ("seconds", "seconds", "{:.1f}"),
        ("CPU per file in the worker (ms)", "cpu_ms", "{:.1f}"),
        ("wall per file in the worker (ms)", "wall_ms", "{:.1f}"),
        ("worker processes idle (% of wall)", "idle_pct", "{:.1f}"),
        ("pairs verified", "pairs", "{:d}"),
    ]:
        print(f"{name:34}" + "".join(f"{fmt.format(col[key]):>16}" for _, col in columns))
    print("worker CPU per file by stage (ms):")
    for stage in sorted({s for _, col in columns for s in col["stages_ms"]}):
        print(f"  {stage:32}" + "".join(f"{col['stages_ms'].get(stage, 0.0):>16.1f}" for _, col in columns))
    slower = postgres["files_per_s"] / embedded["files_per_s"]
    print(f"embedded takes {slower:.2f}x the time of postgres+redis (head)", end="")
    if base_embedded:
        print(f"; base embedded {postgres['files_per_s'] / base_embedded['files_per_s']:.2f}x", end="")
    same = postgres["clusters"] == embedded["clusters"]
    print(f"\nclusters: postgres {len(postgres['clusters'])}, embedded {len(embedded['clusters'])}, identical: {same}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--probe-worker":
        probe_worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="A folder made by bench.dataset (or any folder of images).")
    parser.add_argument("--base", help="Root of the baseline tree (an unpacked copy of main).")
    parser.add_argument("--head", default=str(HERE), help="Root of the tree measured (default: this one).")
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--embedded", action="store_true", help="PostgreSQL + Redis against SQLite + filesystem.")
    parser.add_argument("--profile", action="store_true", help="Also a cProfile of version_process per tree.")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    dataset, head = Path(args.dataset), Path(args.head)
    base = Path(args.base) if args.base else None
    if not (base or args.embedded):
        parser.error("--base is needed unless --embedded")
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        if args.embedded:
            run = lambda tree, label, embedded, c=concurrency: summarise(  # noqa: E731
                run_once(tree, dataset, c, label, embedded=embedded)
            )
            postgres, embedded = run(head, "head", False), run(head, "head_embedded", True)
            print_stacks(concurrency, postgres, embedded, None)
            if base:  # printed after, so a failing base run loses nothing of the head's
                sys.stdout.flush()
                print_stacks(concurrency, postgres, embedded, run(base, "base_embedded", True))
        else:
            results = {label: summarise(run_once(tree, dataset, concurrency, label)) for label, tree in
                       (("base", base), ("head", head))}  # fmt: skip
            print_pair(concurrency, results["base"], results["head"])
        sys.stdout.flush()
    if args.profile:
        for label, tree in [("base", base), ("head", head)] if base else [("head", head)]:
            result = run_once(tree, dataset, 1, label, profile=True, embedded=args.embedded)
            print_profile(label, result["profiles"], args.top)


if __name__ == "__main__":
    main()
