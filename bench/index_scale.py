"""Scale of the candidate index: bulk pair join and single-version lookup at 100k to 10M hashes.

Run from the repository root:

    .venv/bin/python -m bench.index_scale                 # 100k and 1M, a few minutes
    .venv/bin/python -m bench.index_scale --pg            # also PostgreSQL on 127.0.0.1:5432
    .venv/bin/python -m bench.index_scale --sizes 10000000 --sets uniform --radii 6
    .venv/bin/python -m bench.index_scale --sizes 1000000 --radii 8 --sets uniform,documents \
        --baseline ced6553 --queries 0 --bktree-size 0   # the compiled join beside the numpy one

`--baseline REV` also times `pairs_within` of dedup/imaging/index.py as it was at git revision
REV (or in a file of that name), side by side in the same run; ced6553 is the last numpy-only
join. The compiled join's one-off cost (numba compiling it, then loading it from its cache)
is timed in fresh processes and printed apart from the join.

Each measurement runs in a fresh subprocess so peak RSS (getrusage ru_maxrss) belongs to
that measurement alone. Brute force is timed in the same run on a sample of rows against
all N and extrapolated to N*(N-1)/2 comparisons; the output says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dedup.imaging.index import _bit_order, _flip_masks, _permute, blocks, candidate_filter, pairs_within, probe_blocks

ROOT = Path(__file__).resolve().parents[1]
BLANK_PAGE = 1 << 63  # pHash of a flat image: only the DC coefficient exceeds the median
# Hashes a version searches with: pHash and its 7 other rotations/mirrors, the border-trimmed pHash and the
# 8 centre hashes (dedup.matching.fingerprint_hashes; fewer when some coincide).
VARIANTS = 17
UPRIGHT = 3  # of them the picture as uploaded (pHash, trimmed, centre); the rest rotations and mirrors


# --- data ---------------------------------------------------------------------------------


def uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unrelated photographs: independent random bits."""
    return rng.integers(0, 2**64, n, dtype=np.uint64)


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """Half originals, half near copies (Poisson(2) bit flips); a few stamps/logos with ~200 copies."""
    originals = uniform(n - n // 2, rng)
    copies = n // 2
    stamps = max(1, n // 20_000)
    source = rng.integers(0, len(originals), copies)
    source[: stamps * 200] = np.repeat(np.arange(stamps), 200)[:copies]
    return np.concatenate([originals, _flip(originals[source], rng.poisson(2.0, copies), rng)])


def documents(n: int, rng: np.random.Generator) -> np.ndarray:
    """Scanned pages: layout families of ~500 pages share most low-frequency bits; 0.1% blank."""
    family_flip = np.r_[np.full(16, 0.15), np.full(48, 0.5)]
    page_flip = np.r_[np.full(16, 0.02), rng.uniform(0.1, 0.4, 48)]
    base = np.full(max(1, n // 500), rng.integers(0, 2**64, dtype=np.uint64), dtype=np.uint64)
    templates = base ^ _noise(len(base), family_flip, rng)
    pages = templates[rng.integers(0, len(templates), n)] ^ _noise(n, page_flip, rng)
    pages[rng.random(n) < 0.001] = BLANK_PAGE
    return pages


def _noise(n: int, flip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random masks, bit b (most significant first) set with probability flip[b]."""
    out = np.zeros(n, dtype=np.uint64)
    for b, p in enumerate(flip):
        out |= (rng.random(n) < p).astype(np.uint64) << np.uint64(63 - b)
    return out


def _flip(values: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = values.copy()
    for c in range(int(k.max(initial=0))):
        bit = rng.integers(0, 64, len(out)).astype(np.uint64)
        out ^= np.where(k > c, np.uint64(1) << bit, np.uint64(0))
    return out


SETS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "uniform": uniform,
    "clustered": clustered,
    "documents": documents,
}


def dataset(name: str, n: int, queries: int) -> tuple[np.ndarray, list[list[int]]]:
    """n stored hashes and `queries` groups of VARIANTS query hashes from the same population.

    Variant 0 is a near copy (Poisson(2) flips) of a stored hash, as a re-upload would be;
    the others are fresh hashes of the same kind, standing in for the rotations, mirrors and
    centre hashes, which land wherever that population lands (documents in dense families).
    """
    rng = np.random.default_rng(20_240_601)
    values = SETS[name](n + queries * (VARIANTS - 1), rng)
    stored, fresh = values[:n], values[n:].reshape(queries, VARIANTS - 1)
    picked = stored[rng.integers(0, n, queries)]
    near = _flip(picked, rng.poisson(2.0, queries), rng)
    return stored, [[int(near[q]), *map(int, fresh[q])] for q in range(queries)]


# --- measurements (each in its own process) -----------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_join(name: str, n: int, radius: int, baseline: str | None = None) -> dict:
    join = _baseline_module(baseline).pairs_within if baseline else pairs_within
    join(np.arange(100, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), radius)  # compile or load from cache
    stored, _ = dataset(name, n, 0)
    before = peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    pairs = join(stored, radius)
    cpu, seconds = time.process_time() - cpu, time.perf_counter() - start
    return {"pairs": len(pairs), "cpu": cpu, "seconds": seconds, "data_mb": before, "peak_mb": peak_mb()}


def _baseline_module(baseline: str):
    """dedup/imaging/index.py as it was at git revision `baseline`, or the file of that name."""
    if Path(baseline).is_file():
        source = Path(baseline).read_text()
    else:
        git = ["git", "show", f"{baseline}:dedup/imaging/index.py"]
        source = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "index_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("index_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def measure_first_call(radius: int) -> dict:
    """Import and first `pairs_within` call on 100 hashes: numba compiles, or loads its cache."""
    start, cpu = time.perf_counter(), time.process_time()
    from dedup.imaging import index  # noqa: PLC0415 - the import is part of what is timed

    index.pairs_within(np.arange(100, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), radius)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}


def measure_brute(n: int, sample: int) -> dict:
    """Numpy brute force: `sample` rows against all n, in 16-row strips."""
    stored, _ = dataset("uniform", n, 0)
    start = time.process_time()
    found = 0
    for lo in range(0, sample, 16):
        dist = np.bitwise_count(stored[lo : lo + 16, None] ^ stored[None, :])
        found += int(np.count_nonzero(dist <= 6))
    per_pair = (time.process_time() - start) / (sample * n)
    return {"ns_per_pair": per_pair * 1e9, "all_pairs_s": per_pair * n * (n - 1) / 2}


class MemoryIndex:
    """One sorted block column per block, like a btree index: lookup = two binary searches."""

    def __init__(self, stored: np.ndarray) -> None:
        self.stored = stored
        cols = [(stored >> np.uint64(s)) & np.uint64(0xFFFF) for s in (48, 32, 16, 0)]
        self.orders = [np.argsort(c, kind="stable") for c in cols]
        self.sorted = [c[o] for c, o in zip(cols, self.orders, strict=True)]

    def rows(self, probes: list[set[int]]) -> list[tuple[int, int]]:
        ids = []
        for values, col, order in zip(probes, self.sorted, self.orders, strict=True):
            keys = np.fromiter(values, dtype=np.uint64, count=len(values))
            lo, hi = np.searchsorted(col, keys, "left"), np.searchsorted(col, keys, "right")
            ids += [order[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        found = np.unique(np.concatenate(ids)) if ids else np.empty(0, np.int64)
        return list(zip(found.tolist(), self.stored[found].tolist(), strict=True))


def union_probes(variants: list[int], radius: int) -> list[set[int]]:
    probes: list[set[int]] = [set(), set(), set(), set()]
    for h in variants:
        for k, values in enumerate(probe_blocks(h, radius)):
            probes[k] |= values
    return probes


def even_probes(variants: list[int], radius: int) -> list[set[int]]:
    """Alternative: the radius - 3 bits of slack spread evenly, b0 included (r=8: 1, 1, 1, 2).

    Fewest values per hash (188 against 292 at radius 8) and as complete as the contract
    (4 + sum(slack) > radius); it differs from `probe_blocks` only at radius 8.
    """
    base, extra = divmod(max(0, radius - 3), 4)
    slack = [base + (k >= 4 - extra) for k in range(4)]
    probes: list[set[int]] = [set(), set(), set(), set()]
    for h in variants:
        for k, v in enumerate(blocks(h)):
            probes[k] |= {v ^ m for m in _flip_masks(16, slack[k])}
    return probes


def balanced_rows(stored: np.ndarray, groups: list[list[int]], radius: int) -> float:
    """Rows fetched if the block columns held a bit order balanced on this collection."""
    order = _bit_order(np.unique(stored), 64)  # the order pairs_within uses internally
    if order is None:
        return float(np.mean([len(MemoryIndex(stored).rows(union_probes(g, radius))) for g in groups]))
    index = MemoryIndex(_permute(stored, order, 64))
    moved = [_permute(np.array(g, dtype=np.uint64), order, 64).tolist() for g in groups]
    return float(np.mean([len(index.rows(union_probes(g, radius))) for g in moved]))


def match(index_rows: Callable, variants: list[int], radius: int) -> tuple[int, int]:
    rows = index_rows(union_probes(variants, radius))
    return len(rows), len(candidate_filter(variants, rows, radius))


def latency(run: Callable[[], tuple[int, int]], queries: int) -> dict:
    times, rows, hits = [], 0, 0
    for q in range(queries):
        start = time.perf_counter()
        n_rows, n_hits = run(q)
        times.append((time.perf_counter() - start) * 1000)
        rows, hits = rows + n_rows, hits + (n_hits > 0)
    times_ms = np.array(times[min(5, queries // 10) :])  # first few warm caches up
    return {
        "median_ms": float(np.median(times_ms)),
        "p95_ms": float(np.percentile(times_ms, 95)),
        "rows": rows / queries,
        "hit_rate": hits / queries,
    }


def measure_query(name: str, n: int, radius: int, queries: int) -> dict:
    stored, groups = dataset(name, n, queries)
    index = MemoryIndex(stored)
    out = latency(lambda q: match(index.rows, groups[q], radius), queries)
    some = groups[:50]  # row counts only; 50 queries settle the mean
    even = [len(index.rows(even_probes(g, radius))) for g in some]
    return out | {"even_rows": float(np.mean(even)), "balanced_rows": balanced_rows(stored, some, radius)}


def measure_pg(name: str, n: int, radii: list[int], queries: int, dsn: str) -> dict:
    import psycopg  # noqa: PLC0415 - optional dependency of this bench only

    stored, groups = dataset(name, n, queries)
    table = f"bench_index_scale_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        try:
            load_seconds = pg_load(conn, table, stored)
            result = {"load_s": load_seconds}
            for radius in radii:
                run = lambda q, r=radius: pg_match(conn, table, groups[q], r)  # noqa: E731
                result[str(radius)] = latency(run, queries)
            return result
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


def pg_load(conn, table: str, stored: np.ndarray) -> float:
    start = time.perf_counter()
    conn.execute(
        f"CREATE UNLOGGED TABLE {table} (id bigint PRIMARY KEY, h bigint NOT NULL,"
        " b0 integer NOT NULL, b1 integer NOT NULL, b2 integer NOT NULL, b3 integer NOT NULL,"
        f" upright boolean GENERATED ALWAYS AS (id % {VARIANTS} < {UPRIGHT}) STORED)"
    )
    signed = stored.view(np.int64)
    cols = [(stored >> np.uint64(s)) & np.uint64(0xFFFF) for s in (48, 32, 16, 0)]
    with conn.cursor().copy(f"COPY {table} (id, h, b0, b1, b2, b3) FROM STDIN") as copy:
        for lo in range(0, len(stored), 100_000):
            part = [np.arange(lo, lo + len(signed[lo : lo + 100_000])), signed[lo : lo + 100_000]]
            part += [c[lo : lo + 100_000] for c in cols]
            lines = "\n".join("\t".join(map(str, row)) for row in zip(*(p.tolist() for p in part), strict=True))
            copy.write(lines + "\n")
    for k in range(4):
        conn.execute(f"CREATE INDEX {table}_b{k} ON {table} (b{k})")
        conn.execute(f"CREATE INDEX {table}_up{k} ON {table} (b{k}) WHERE upright")
    conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - start


def pg_match(conn, table: str, variants: list[int], radius: int) -> tuple[int, int]:
    """As dedup.matching.candidates_near: upright query hashes against every row, all of them against the
    upright rows (UPRIGHT of every VARIANTS stored rows)."""
    upright, everything = union_probes(variants[:UPRIGHT], radius), union_probes(variants, radius)
    blocks_any = lambda n: "(" + " OR ".join(f"b{k} = ANY(%({n}{k})s)" for k in range(4)) + ")"  # noqa: E731
    sql = f"SELECT id, h, upright FROM {table} WHERE {blocks_any('u')} OR (upright AND {blocks_any('a')})"
    params = {f"u{k}": sorted(upright[k]) for k in range(4)} | {f"a{k}": sorted(everything[k]) for k in range(4)}
    rows = conn.execute(sql, params).fetchall()
    found = {i for i, _d, _v in candidate_filter(variants, [(i, h) for i, h, up in rows if up], radius)}
    found |= {i for i, _d, _v in candidate_filter(variants[:UPRIGHT], [(i, h) for i, h, up in rows if not up], radius)}
    return len(rows), len(found)


def measure_bktree(n: int, radius: int, queries: int) -> dict:
    """Pure-Python BK-tree on uniform hashes: build time and distance evaluations per query."""
    stored, groups = dataset("uniform", n, queries)
    start = time.perf_counter()
    root: list = [int(stored[0]), {}]
    for h in stored[1:].tolist():
        node = root
        while True:
            d = (node[0] ^ h).bit_count()
            if d not in node[1]:
                node[1][d] = [h, {}]
                break
            node = node[1][d]
    build = time.perf_counter() - start
    start, visits = time.perf_counter(), 0
    for group in groups:
        stack = [root]
        while stack:
            node = stack.pop()
            visits += 1
            d = (node[0] ^ group[0]).bit_count()
            stack += [c for k, c in node[1].items() if d - radius <= k <= d + radius]
    per_query = (time.perf_counter() - start) / queries
    return {"build_s": build, "query_ms": per_query * 1000, "visits": visits / queries}


WORKERS = {
    "join": measure_join,
    "first_call": measure_first_call,
    "brute": measure_brute,
    "query": measure_query,
    "pg": measure_pg,
    "bktree": measure_bktree,
}


def in_subprocess(kind: str, *args, env: dict[str, str] | None = None) -> dict:
    """Run one measurement in a fresh interpreter so its peak RSS is its own."""
    cmd = [sys.executable, "-m", "bench.index_scale", "--worker", json.dumps([kind, *args])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=os.environ | (env or {}))
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report -------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [header, *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(r[c]) for r in cells) for c in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pg_reachable(dsn: str) -> str | None:
    try:
        import psycopg  # noqa: PLC0415

        psycopg.connect(dsn, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: skip the PostgreSQL part
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def run_joins(args, brute: dict[int, dict]) -> None:
    rows, cpu = [], {}
    engines = [("compiled", None)] + ([(f"numpy {args.baseline}", args.baseline)] if args.baseline else [])
    for n in args.sizes:
        for name in args.sets:
            for radius in args.radii:
                for engine, baseline in engines:
                    r = in_subprocess("join", name, n, radius, baseline)
                    if "error" in r:
                        rows.append([name, n, radius, engine, r["error"], "", "", "", "", "", ""])
                        continue
                    est = brute[n]["all_pairs_s"]
                    if baseline is None:
                        cpu[name, n, radius] = r["cpu"]
                    first = rows[-1] if baseline and rows and rows[-1][3] == "compiled" else None
                    ratio = r["cpu"] / first[5] if first and isinstance(first[5], float) and first[5] else ""
                    rows.append([name, n, radius, engine, r["pairs"], r["cpu"], r["seconds"], est, est / r["cpu"],
                                 r["peak_mb"], ratio])  # fmt: skip
                    print(f"  join {engine} {name} n={n:,} r={radius}: {r['cpu']:.1f} s", file=sys.stderr)
    header = ["set", "N", "r", "join", "pairs", "cpu s", "wall s", "brute cpu s", "speed-up", "peak RSS MB",
              "cpu x compiled"]  # fmt: skip
    table("pairs_within: all pairs within r (one core)", header, rows)
    print("brute cpu s: numpy xor+popcount timed on a sample of rows x N in this run,")
    print("             extrapolated to N*(N-1)/2 comparisons (same cost for every set).")
    print("peak RSS: whole worker process (interpreter, numpy, numba, the N hashes, the join).")
    print("cpu x compiled: this row's cpu over the compiled join's on the same set (baseline rows).")
    print("Each join is called once on 100 hashes first, so compiling or loading the kernel is not in its time.")
    run_first_call(args.radii[0])
    extrapolate(cpu)


def run_first_call(radius: int) -> None:
    """numba's one-off costs, in fresh processes on an empty cache directory: compile, then load."""
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        compiled, loaded = in_subprocess("first_call", radius, env=env), in_subprocess("first_call", radius, env=env)
    print("\nimport + first call on 100 hashes, fresh process:", end=" ")
    if "error" in compiled or "error" in loaded:
        print(compiled.get("error") or loaded.get("error"))
        return
    print(f"empty numba cache {compiled['seconds']:.1f} s wall ({compiled['cpu']:.1f} s cpu, compiling);", end=" ")
    print(f"warm cache {loaded['seconds']:.1f} s wall ({loaded['cpu']:.1f} s cpu)")


def extrapolate(cpu: dict[tuple, float]) -> None:
    """Project to 10M with t = a*N + b*N**2 through the 100k and 1M points.

    a*N: passes over every hash per block and bit; b*N**2: candidate pairs, which grow
    with the square once block groups fill (N >> 65536). At 100k the linear part
    dominates, so a plain power law through the two points would underestimate 10M.
    """
    lines = []
    for (name, n, radius), big in cpu.items():
        small = cpu.get((name, n // 10, radius))
        if n == 1_000_000 and small:
            b = max(0.0, (big - 10 * small) / (n * n - 10 * (n // 10) ** 2))
            a = max(0.0, (small - b * (n // 10) ** 2) / (n // 10))
            lines.append(f"  {name} r={radius}: about {a * 1e7 + b * 1e14:,.0f} s cpu")
    if lines:
        print("\n10M by extrapolation, t = a*N + b*N^2 through 100k and 1M (measure: --sizes 10000000):")
        print("\n".join(lines))


def run_queries(args) -> None:
    rows = []
    for n in args.sizes:
        for name in args.sets:
            for radius in args.radii:
                r = in_subprocess("query", name, n, radius, args.queries)
                rows.append([name, n, radius, "memory", r.get("rows", 0.0), r.get("even_rows", 0.0),
                             r.get("balanced_rows", 0.0), r.get("hit_rate", 0.0), r.get("median_ms", 0.0),
                             r.get("p95_ms", 0.0)])  # fmt: skip
    if args.pg:
        rows += run_pg(args)
    header = ["set", "N", "r", "backend", "rows", "rows even", "rows balanced", "hit", "median ms", "p95 ms"]
    table(f"one new version ({VARIANTS} hashes) against N stored, {args.queries} queries", header, rows)
    print("rows: candidate rows fetched by the block probe (probe_slack: 1, 17 or 137 values per block);")
    print("rows even: slack spread evenly with b0 widened too (1,1,1,2 at r=8; not in the contract);")
    print("            this and rows balanced are means over the first 50 queries.")
    print("rows balanced: contract probe on blocks cut from a bit order balanced on the collection")
    print("               (what pairs_within does in memory; not in the contract).")
    print("hit: share of queries whose near copy (variant 0) was found.")
    print(f"time: probe_blocks x{VARIANTS} + lookup + candidate_filter; memory: every hash against every row;")
    print(f"      postgres: as the application, {UPRIGHT} upright hashes against every row, all against upright rows.")


def run_pg(args) -> list[list]:
    problem = pg_reachable(args.dsn)
    if problem:
        print(f"\nPostgreSQL skipped ({problem})")
        return []
    rows = []
    for name in args.sets:
        r = in_subprocess("pg", name, args.pg_rows, args.radii, args.queries, args.dsn)
        if "error" in r:
            print(f"\nPostgreSQL {name}: {r['error']}")
            continue
        print(f"  PostgreSQL {name}: load + index {r['load_s']:.0f} s", file=sys.stderr)
        for radius in args.radii:
            q = r[str(radius)]
            rows.append([name, args.pg_rows, radius, "postgres", q["rows"], "", "", q["hit_rate"],
                         q["median_ms"], q["p95_ms"]])  # fmt: skip
    return rows


def run_bktree(args) -> None:
    rows = []
    for radius in args.radii:
        r = in_subprocess("bktree", args.bktree_size, radius, 50)
        rows.append([args.bktree_size, radius, r["build_s"], r["visits"], r["query_ms"],
                     r["query_ms"] * args.bktree_size / 1000])  # fmt: skip
    header = ["N", "r", "build s", "nodes visited/query", "query ms", "all pairs s (N queries)"]
    table("BK-tree (pure Python, uniform), for comparison", header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ints = lambda s: [int(float(v)) for v in s.split(",")]  # noqa: E731
    parser.add_argument("--sizes", type=ints, default=[100_000, 1_000_000])
    parser.add_argument("--radii", type=ints, default=[3, 6, 8])
    parser.add_argument("--sets", type=lambda s: s.split(","), default=list(SETS))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--brute-sample", type=int, default=2_000)
    parser.add_argument("--bktree-size", type=int, default=100_000, help="0 to skip")
    parser.add_argument("--baseline", help="git revision (or file) of dedup/imaging/index.py to time beside")
    parser.add_argument("--pg", action="store_true", help="also time PostgreSQL block probes")
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *params = json.loads(args.worker)
        print(json.dumps(WORKERS[kind](*params)))
        return
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; numpy {np.__version__}")
    brute = {n: in_subprocess("brute", n, min(args.brute_sample, n)) for n in args.sizes}
    run_joins(args, brute)
    if args.queries:
        run_queries(args)
    if args.bktree_size:
        run_bktree(args)


if __name__ == "__main__":
    main()
