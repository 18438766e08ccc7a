"""Pages and candidate search at collection scale: a PostgreSQL collection built in bulk SQL, measured by two trees.

    .venv/bin/python -m bench.scale --base /tmp/throughput-base [--versions 1000000] [--keep]

Builds (once, with this tree's migrations) a database of `--versions` versions, each with a fingerprint and
17 searchable hashes (3 upright), random or document-like (`--hashes documents`: most hashes near a few
hundred page-like centres), and one open cluster per `--cluster-every` versions (2-3 members). Then each tree
(the baseline and this one) measures against that same database, in its own process: the candidate probe of
one version (a stored version's hashes with a few bits flipped) p50 / p95 over `--queries` probes, and the
review pages (the queue with each filter and order, a cluster in the middle of the queue, possible
duplicates, bulk rules with a preview of a rule that matches nothing and one that matches every cluster,
and an item's history with merges), `/api/v1/clusters/` and `/reports/` (p50 / p95 and queries per request,
through Django's test client as a superuser, in a process started by the tree's `config.wsgi` as a gunicorn
worker is, `--pages` timed requests after one untimed one). The collection also holds a verified edge per
cluster pair, rejected comparisons and possible duplicates (half of them declined); the dashboard's tallies
are counted once after the load (`dashboard_recount`). Each tree migrates the database to its own schema
before it measures (the baseline first). Printed side by side with the ratio head / base. Not part of the
suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

BUILD_SQL = """
INSERT INTO collections_app_source (name, kind, trust_priority, description)
    VALUES ('Scale', 'department', 0, '') ON CONFLICT DO NOTHING;
INSERT INTO collections_app_item (identifier, title, title_zh, description, creator, date, subjects, rights,
        created_at, updated_at, provenance)
    SELECT 'SCALE-' || n, '', '', '', '', '', '[]', '', now(), now(), '{{}}' FROM generate_series(1, {n}) AS n;
INSERT INTO collections_app_version (item_id, file, original_filename, original_path, source_id, byte_size, sha256,
        format, width, height, status, error_code, error_params, uploaded_at, legal_hold, quarantine_name)
    SELECT i.id, 'scale/' || i.id || '.jpg', i.id || '.jpg', 'scale/' || i.id || '.jpg',
        (SELECT id FROM collections_app_source WHERE name = 'Scale'), 100000 + (i.id % 5000),
        md5(i.id::text) || md5((i.id + 1)::text), 'JPEG', 1000, 800, 'done', '', '{{}}', now(), false, ''
    FROM collections_app_item i WHERE i.identifier LIKE 'SCALE-%';
UPDATE collections_app_item i SET authoritative_version_id = v.id FROM collections_app_version v WHERE v.item_id = i.id;
INSERT INTO dedup_fingerprint (version_id, phash, dhash, phash_dihedral, phash_centre, phash_reframed, mode,
        bit_depth, page_count, orientation, captured_at, rendition, rendition_width, rendition_height, content,
        content_width, content_height, thumb_small, thumb_preview, timings, created_at)
    SELECT id, 0, 0, '[]', '[]', '[]', 'RGB', 8, 1, 1, '', '\\x00', 1, 1, '', 0, 0, '', '', '{{}}', now()
    FROM collections_app_version;
"""

# Random 64-bit hashes; "documents", the first page-like ones: 300 centres with 0-6 bits flipped, every hash of a
# version near its one centre. hashint8 gives 32 bits, sign-extended, so the top 32 bits of every hash are all
# zeros or all ones but for the flips: about 3,300 versions within the radius of each probe, and no 16-bit block
# (nor any key made of the top bits) that tells the centres apart. "pages" are drawn like rendered pages'
# pHashes (bench-material: 120 pages, every bit leaning one way by 0.12-0.20 on average, the low frequencies
# most): each hash of a version its own draw (a page's rotations, middle and reframed hashes lie about 30 bits
# from its pHash), bits set with probability about 0.3 (the top half) and 0.34 (the low half) and then turned by
# a pattern of its own per hash slot, so each bit leans its own way; runs of 4 versions are pages of one
# document (the same draw, then up to 3 bits flipped each, so neighbours are often within the radius).
HASH_SQL = {
    "random": "(floor(random() * 4294967296)::bigint << 32) | floor(random() * 4294967296)::bigint",
    "documents": (
        "((hashint8(v.id % 300) # (1::bigint << (floor(random() * 63))::int)"
        " # (1::bigint << (floor(random() * 63))::int) # (1::bigint << (floor(random() * 63))::int)))"
    ),
    "pages": "",  # _pages_sql()
}


def _pages_sql() -> str:
    """A page-like hash of version v.id, slot k (HASH_SQL), inline: hashint8 of a seed per document and slot gives
    the draws, 32 bits each."""
    seed = "(((v.id / 4) * 32 + k) * 8)"

    def r64(n: str) -> str:
        return f"((hashint8({n})::bigint << 32) | (hashint8(({n}) # 6148914691236517205)::bigint & 4294967295))"

    a, b, c, d, e, f = (r64(f"{seed} + {j}") for j in range(1, 7))
    top = f"((({a} & {b}) | ({c} & {d} & {e} & {f})) & -4294967296)"
    low = f"((({a} & {b}) | ({c} & {d} & {e})) & 4294967295)"
    flip = " # (CASE WHEN random() < 0.7 THEN 1::bigint << floor(random() * 64)::int ELSE 0 END)"
    return f"(({top} | {low}) # {r64('-1 - k')})" + flip * 3


HASH_SQL["pages"] = _pages_sql()

ENTRIES_SQL = """
INSERT INTO dedup_hashentry (version_id, value, upright, b0, b1, b2, b3)
    SELECT version_id, value, upright, (value >> 48) & 65535, (value >> 32) & 65535, (value >> 16) & 65535,
        value & 65535
    FROM (SELECT v.id AS version_id, {hash} AS value, k < {upright} AS upright
          FROM collections_app_version v, generate_series(0, {per_version} - 1) AS k) AS h
    ON CONFLICT DO NOTHING;
"""

CLUSTERS_SQL = """
INSERT INTO dedup_cluster (status, confidence, created_at, updated_at)
    SELECT 'open', random(), now(), now() FROM generate_series(1, {clusters});
INSERT INTO dedup_clustermember (cluster_id, version_id, kind, score, evidence, added_at)
    SELECT c.id, v.id, 'near', 0.9, '{{}}', now()
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM dedup_cluster) AS c
    JOIN collections_app_version v ON v.id BETWEEN (c.r - 1) * {every} + (SELECT min(id) FROM collections_app_version)
        AND (c.r - 1) * {every} + (SELECT min(id) FROM collections_app_version) + 1 + (c.r % 2);
UPDATE dedup_cluster c SET member_count = m.n, has_exact = m.exact, has_same_pixels = m.same_pixels,
        has_near = m.near, has_rotated = m.rotated, first_uploaded_at = m.first, last_uploaded_at = m.last
    FROM (SELECT cluster_id, count(*) AS n, bool_or(kind = 'exact') AS exact,
            bool_or(kind = 'same_pixels') AS same_pixels, bool_or(kind = 'near') AS near,
            bool_or(kind = 'rotated') AS rotated, min(v.uploaded_at) AS first, max(v.uploaded_at) AS last
          FROM dedup_clustermember JOIN collections_app_version v ON v.id = version_id GROUP BY cluster_id) AS m
    WHERE m.cluster_id = c.id;
"""

# Verified edges inside clusters, rejected comparisons, and possible duplicates of which half are declined.
EDGES_SQL = """
INSERT INTO dedup_matchedge (version_a_id, version_b_id, is_duplicate, kind, score, evidence, created_at)
    SELECT m1.version_id, m2.version_id, true, 'near', 0.95, '{{"transform": "identity", "compared": "frame"}}', now()
    FROM dedup_clustermember m1 JOIN dedup_clustermember m2
        ON m2.cluster_id = m1.cluster_id AND m2.version_id = m1.version_id + 1;
INSERT INTO dedup_matchedge (version_a_id, version_b_id, is_duplicate, kind, score, evidence, created_at)
    SELECT v.id, v.id + 7, false, '', 0.4, '{{"reason": "not_alike", "reason_params": {{"correlation": 0.4}}}}', now()
    FROM collections_app_version v WHERE v.id % 3 = 0 AND v.id + 7 <= (SELECT max(id) FROM collections_app_version);
INSERT INTO dedup_matchedge (version_a_id, version_b_id, is_duplicate, kind, score, evidence, created_at)
    SELECT v.id, v.id + 11, false, '', 0.8,
        '{{"possible": true, "reason": "possible_overlay", "reason_params": {{}},
          "compared": "frame", "compared_size": [[256, 205], [256, 205]],
          "regions": [{{"box": [10, 40, 10, 60], "box_b": [10, 40, 10, 60], "kind": "content"}}]}}', now()
    FROM collections_app_version v WHERE v.id % {possible_every} = 0
        AND v.id + 11 <= (SELECT max(id) FROM collections_app_version);
INSERT INTO dedup_notduplicatepair (version_a_id, version_b_id, decided_at)
    SELECT v.id, v.id + 11, now() FROM collections_app_version v WHERE v.id % ({possible_every} * 2) = 0
        AND v.id + 11 <= (SELECT max(id) FROM collections_app_version);
ANALYZE;
"""


# The plain indexes of the tables the build loads (name|definition), left out while it loads.
INDEXES_SQL = """
SELECT i.indexname || '|' || i.indexdef FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename IN ('collections_app_item', 'collections_app_version',
        'dedup_fingerprint', 'dedup_hashentry', 'dedup_cluster', 'dedup_clustermember', 'dedup_matchedge',
        'dedup_notduplicatepair')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
ORDER BY i.indexname
"""


def _psql(dbname: str, sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def build(
    dbname: str, versions: int, hashes: str, every: int, shape: tuple[int, int], *, tree: Path, pages: bool = True
) -> None:
    """Load the collection into `tree`'s schema (the baseline's: this tree's migrations then run on the
    loaded data, as they would on a deployment's)."""
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", dbname], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=_dsn(dbname))
    subprocess.run(
        [_python(tree), "manage.py", "migrate", "--noinput"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL
    )
    started = time.monotonic()
    # Loading into bare tables and indexing once afterwards takes minutes where keeping the indexes (the
    # hash entries' eight block indexes, the trigram ones) up to date row by row takes most of an hour.
    # Indexes behind constraints stay: the load's ON CONFLICT needs them.
    indexes = _psql(dbname, INDEXES_SQL).splitlines()
    _psql(dbname, "".join(f'DROP INDEX "{line.split("|", 1)[0]}";' for line in indexes))
    _psql(dbname, BUILD_SQL.format(n=versions))
    per_version, upright = shape
    _psql(dbname, ENTRIES_SQL.format(hash=HASH_SQL[hashes], per_version=per_version, upright=upright))
    if pages:
        _psql(dbname, CLUSTERS_SQL.format(clusters=versions // every, every=every))
        _psql(dbname, EDGES_SQL.format(possible_every=100))
    _psql(dbname, "".join(line.split("|", 1)[1] + ";" for line in indexes))
    # Autovacuum would have set the visibility map of a table this old; without it an index-only scan
    # (the queue's deep pages read ids off the ordering index) visits the heap for every row.
    _psql(dbname, "VACUUM ANALYZE")
    print(f"built {versions:,} versions ({hashes} hashes) in {time.monotonic() - started:.0f} s")
    if not pages:
        return
    # The triggers tallied the bulk load; counting afresh folds it at once, as the scheduled fold would have
    # before anyone opened the dashboard (the first visit is then not the one that pays for the whole load).
    started = time.monotonic()
    subprocess.run(
        [_python(tree), "manage.py", "dashboard_recount"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL
    )
    print(f"dashboard tallies counted in {time.monotonic() - started:.0f} s")


def _dsn(dbname: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{dbname}"


# --- measuring, inside each tree ----------------------------------------------------------------------------


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered), "p95": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]}


def measure(queries: int, pages: int) -> dict:
    """Figures of this tree; `pages` 0 measures the candidate probe alone."""
    sys.path.insert(0, os.getcwd())
    import random

    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import config.wsgi  # noqa: F401  set up as a gunicorn worker is, whatever that tree's entry point does
    from dedup.imaging.index import to_unsigned
    from dedup.matching.candidates import candidates_near
    from dedup.models import HashEntry

    rng = random.Random(7)
    top = HashEntry.objects.order_by("-version_id").values_list("version_id", flat=True).first()
    probes = []
    for _ in range(queries):
        version_id = rng.randint(1, top)
        rows = list(HashEntry.objects.filter(version_id=version_id).values_list("value", "upright"))
        flipped = [(to_unsigned(v) ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)), u) for v, u in rows]
        probes.append(flipped)
    timings = []
    for hashes in probes:
        if not hashes:
            continue
        start = time.perf_counter()
        candidates_near(upright=[h for h, u in hashes if u], hashes=[h for h, _ in hashes], sha256="-")
        timings.append(1000 * (time.perf_counter() - start))
    result = {"candidate query (ms)": _percentiles(timings)}
    if not pages:
        return result
    user, _ = get_user_model().objects.get_or_create(username="scale-bench", defaults={"is_superuser": True})
    user.is_superuser = user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    for name, url in _pages(user):
        samples, counts = [], []
        # One untimed request first: a process's first request of a page compiles its templates and fills
        # Django's caches, which a serving process did long before a curator's request.
        client.get(url, HTTP_HOST="localhost")
        for _ in range(pages):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url, HTTP_HOST="localhost")
                samples.append(1000 * (time.perf_counter() - start))
            counts.append(len(captured.captured_queries))
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
        result[f"{name} (ms)"] = _percentiles(samples)
        result[f"{name} queries"] = {"p50": statistics.median(counts), "p95": max(counts)}
    return result


def _pages(user) -> list[tuple[str, str]]:
    """The pages measured, with the rows they need made once (the first tree to measure makes them)."""
    from dedup.models import BulkRule, Cluster
    from dedup.review.services import cluster_merge

    middle = Cluster.objects.filter(status="open").order_by("-confidence", "pk")[50_000:50_001].get()
    source = Cluster.objects.values_list("members__version__source", flat=True).filter(pk=middle.pk).first()
    none = BulkRule.objects.get_or_create(name="bench: exact copies", defaults={"kinds": ["exact", "same_pixels"]})[0]
    every = BulkRule.objects.get_or_create(name="bench: near copies", defaults={"kinds": ["near"], "max_size": 3})[0]
    merged = Cluster.objects.filter(status="resolved").order_by("pk").first()
    if merged is None:  # a few merges, one of them undone, for an item's history and the queue's neighbours
        for cluster in Cluster.objects.filter(status="open").order_by("pk")[:3]:
            first = cluster.members.order_by("version_id").first()
            cluster_merge(cluster_id=cluster.pk, actor=user, authoritative_id=first.version_id)
        merged = Cluster.objects.filter(status="resolved").order_by("pk").first()
    item = merged.members.order_by("version_id").first().version.item_id
    return [
        ("review queue", "/review/"),
        ("queue least sure first", "/review/?order=least_sure"),
        ("queue page 400", "/review/?page=400"),
        ("queue kind near", "/review/?kind=near"),
        ("queue kind exact", "/review/?kind=exact"),
        ("queue size 2", "/review/?size=2"),
        ("queue source", f"/review/?source={source}"),
        ("queue uploaded from", "/review/?uploaded_after=2000-01-01"),
        ("queue dismissed", "/review/?status=dismissed"),
        ("cluster page", f"/review/clusters/{middle.pk}/"),
        ("possible duplicates", "/review/possible/"),
        ("possible page 20", "/review/possible/?page=20"),
        ("bulk rules", "/review/rules/"),
        ("bulk preview none", f"/review/rules/{none.pk}/preview/"),
        ("bulk preview all", f"/review/rules/{every.pk}/preview/"),
        ("item history", f"/items/{item}/"),
        ("API clusters", "/api/v1/clusters/"),
        ("API clusters page 400", "/api/v1/clusters/?page=400"),
        ("dashboard", "/reports/"),
    ]


def _python(tree: Path) -> str:
    python = tree / ".venv" / "bin" / "python"
    return str(python if python.exists() else sys.executable)


def run_tree(tree: Path, dbname: str, queries: int, pages: int) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=_dsn(dbname), DJANGO_DEBUG="0")
    started = time.monotonic()
    subprocess.run(
        [_python(tree), "manage.py", "migrate", "--noinput"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL
    )
    print(f"{tree}: migrated in {time.monotonic() - started:.0f} s", flush=True)
    out = subprocess.run(
        [_python(tree), str(Path(__file__).resolve()), "--measure"] + [str(queries), str(pages)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="Root of the baseline tree (an unpacked copy of main).")
    parser.add_argument("--head", default=str(HERE))
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--hashes", choices=sorted(HASH_SQL), default="random")
    parser.add_argument("--cluster-every", type=int, default=3, help="One open cluster per this many versions.")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pages", type=int, default=10, help="Timed requests per page; 0 times the probe alone.")
    parser.add_argument(
        "--shape",
        default="22,8",
        help="Searchable hashes per version and how many of them upright (a page's fingerprint today: 22 and 8; "
        "the issue's first measure: 17,3).",
    )
    parser.add_argument("--db", default="dupfinder_throughput_scale")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing database built earlier.")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not args.reuse:
        per_version, upright = (int(n) for n in args.shape.split(","))
        shape = (per_version, upright)
        base = Path(args.base)
        build(args.db, args.versions, args.hashes, args.cluster_every, shape, tree=base, pages=args.pages > 0)
    try:
        results = {
            label: run_tree(Path(tree), args.db, args.queries, args.pages)
            for label, tree in (
                ("base", args.base),
                ("head", args.head),
            )
        }
    finally:
        if not args.keep:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", args.db])
    print(f"\n{args.versions:,} versions, {args.hashes} hashes, {args.versions // args.cluster_every:,} open clusters")
    print(f"{'':28} {'base p50':>10} {'base p95':>10} {'head p50':>10} {'head p95':>10} {'p95 head/base':>14}")
    for name in results["head"]:
        b, h = results["base"][name], results["head"][name]
        ratio = f"{h['p95'] / b['p95']:.2f}x" if b["p95"] else "-"
        print(f"{name:28} {b['p50']:>10.1f} {b['p95']:>10.1f} {h['p50']:>10.1f} {h['p95']:>10.1f} {ratio:>14}")


if __name__ == "__main__":
    main()
