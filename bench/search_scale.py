"""Catalogue search at scale: p50/p95 of the catalogue page's search with 1,000,000 versions and 500,000 items.

Creates its own PostgreSQL database (dropped first; never the one in DATABASE_URL), migrates it, fills it
with generate_series in SQL (the search indexes are dropped for the fill and built afterwards from migration
0010's own definitions, as building a GIN index once is much faster than keeping it up to date row by row),
then times what /items/?q= does for each query: the count and the first page of 24 items with thumbnails and
version counts (collections_app.filters.ItemFilter over selectors.items_for_catalogue), the same for
/versions/?q=, and GET /api/v1/items/?q= and /api/v1/versions/?q= through Django's test client. Queries:
two-character Chinese words, longer Chinese phrases, partial identifiers, English words (full-text, by stem)
and parts of file names.

With --base, a baseline tree's code (an unpacked copy of main with a .venv link, as for bench/scale.py) is
timed against the same database in a process of its own, after this tree, and both are printed side by side.

    .venv/bin/python -m bench.search_scale                      # 1,000,000 versions, 500,000 items
    .venv/bin/python -m bench.search_scale --items 100000 --versions 200000
    .venv/bin/python -m bench.search_scale --reuse              # time again without refilling
    git archive main | tar -x -C /tmp/search-base && ln -s $PWD/.venv /tmp/search-base/.venv
    .venv/bin/python -m bench.search_scale --reuse --queries 10 --base /tmp/search-base --drop

Target: p95 under 300 ms for every kind of query.
"""

import argparse
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parents[1]
DATABASE = "dupfinder_search_scale"
PAGE_SIZE = 24
TIMEOUT_S = 30.0  # a query of the baseline stopped here is counted as taking this long

# Words of the kind a Hong Kong archive's titles hold; every one is two characters, so each is also a query.
ZH_WORDS = (
    "香港 九龍 碼頭 會堂 郵政 天星 渡輪 政府 學校 醫院 街道 市場 電車 港口 新界 中環 灣仔 旺角 廟街 茶樓 "
    "漁船 海港 寺廟 節日 舞獅 龍舟 建築 地圖 照片 信件 報告 檔案 會議 典禮 開幕 總督 巴士 鐵路 機場 啟德 "
    "山頂 纜車 海傍 公園 屋邨 工廠 商店 招牌 街市 學生 教師 漁民 農村 圍村 祠堂 書院 銀行 颱風"
).split()
EN_WORDS = (
    "harbour pier ferry post office school hospital street market tram port village temple festival lion "
    "dragon boat building map photograph letter report file meeting ceremony opening governor bus railway "
    "airport peak funicular waterfront park estate factory shop signboard student teacher fisherman bank typhoon"
).split()
CREATORS = ("Information Services Department", "Public Records Office", "Urban Council", "陳志明", "李美華", "")
PREFIXES = ("HKM", "PRO", "LIB")


def _sql_array(words) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def _pick(array: str, n: int) -> str:
    return f"({array})[1 + floor(random() * {n})::int]"


def fill_sql(items: int, versions: int) -> list[str]:
    zh, en, creators = _sql_array(ZH_WORDS), _sql_array(EN_WORDS), _sql_array(CREATORS)
    nz, ne, nc = len(ZH_WORDS), len(EN_WORDS), len(CREATORS)
    prefix = _sql_array(PREFIXES)
    return [
        "SELECT setseed(0.18)",
        "INSERT INTO collections_app_source (name, kind, trust_priority, description) "
        "SELECT 'Source ' || n, 'department', n, '' FROM generate_series(1, 8) AS n",
        f"""
        INSERT INTO collections_app_item (identifier, title, title_zh, description, creator, date, subjects, rights,
                                          created_at, updated_at, provenance)
        SELECT ({prefix})[1 + n % 3] || '-' || (1950 + n % 76) || '-' || lpad(n::text, 6, '0'),
               initcap({_pick(en, ne)}) || ' ' || {_pick(en, ne)} || ' ' || {_pick(en, ne)},
               {_pick(zh, nz)} || {_pick(zh, nz)} || {_pick(zh, nz)},
               'A ' || {_pick(en, ne)} || ' near the ' || {_pick(en, ne)} || '. ' || {_pick(zh, nz)} || {_pick(zh, nz)},
               {_pick(creators, nc)}, (1950 + n % 76)::text,
               jsonb_build_array({_pick(zh, nz)}, {_pick(en, ne)}), '',
               now() - n * interval '1 minute', now(), '{{}}'::jsonb
        FROM generate_series(1, {items}) AS n
        """,
        f"""
        INSERT INTO collections_app_version (item_id, file, original_filename, original_path, source_id, uploaded_at,
            byte_size, sha256, format, width, height, status, error_code, error_params, legal_hold, quarantine_name)
        SELECT i.first + (n - 1) % {items},
               'originals/bench/' || n || '.jpg',
               CASE WHEN n % 4 = 0 THEN '掃描_' || {_pick(zh, nz)} || '_' || lpad(n::text, 7, '0') || '.tif'
                    WHEN n % 4 = 1 THEN 'scan_' || lpad(n::text, 7, '0') || '.tif'
                    ELSE 'IMG_' || lpad(n::text, 7, '0') || '.jpg' END,
               '', s.first + n % 8, now() - n * interval '30 seconds', 100000 + n % 5000000,
               md5(n::text) || md5((n + 1)::text), CASE WHEN n % 4 < 2 THEN 'TIFF' ELSE 'JPEG' END, 2000, 1500,
               'done', '', '{{}}'::jsonb, n % 997 = 0, ''
        FROM generate_series(1, {versions}) AS n,
             (SELECT min(id) AS first FROM collections_app_item) AS i,
             (SELECT min(id) AS first FROM collections_app_source) AS s
        """,
        # Half the items have an authoritative version chosen: their first one.
        """
        UPDATE collections_app_item AS it SET authoritative_version_id = v.id
        FROM (SELECT item_id, min(id) AS id FROM collections_app_version GROUP BY item_id) AS v
        WHERE v.item_id = it.id AND it.id % 2 = 0
        """,
    ]


def queries(rng: random.Random, n: int) -> dict[str, list[str]]:
    """n queries of each kind, drawn from the vocabulary and the identifier and file name patterns."""

    def ident() -> str:
        number = rng.randrange(1, 500_000)
        return rng.choice([f"{1950 + number % 76}-{number:06d}"[:9], f"-{number:06d}"[:6], f"{number:06d}"[1:5]])

    return {
        "Chinese, 2 characters": [rng.choice(ZH_WORDS) for _ in range(n)],
        "Chinese, 4 characters": [rng.choice(ZH_WORDS) + rng.choice(ZH_WORDS) for _ in range(n)],
        "Chinese, 3 characters": [rng.choice(ZH_WORDS) + rng.choice(ZH_WORDS)[0] for _ in range(n)],
        "partial identifier": [ident() for _ in range(n)],
        "English word": [rng.choice(EN_WORDS) + rng.choice(["", "s"]) for _ in range(n)],
        "part of a file name": [rng.choice(["IMG_", "scan_"]) + f"{rng.randrange(0, 99999):05d}" for _ in range(n)],
    }


def page_seconds(filter_class, queryset, text: str) -> tuple[float, int]:
    """Seconds to count the matches (up to the cap) and read the first page, as the catalogue view does."""
    from collections_app.search import CappedPaginator

    started = time.perf_counter()
    page = CappedPaginator(filter_class({"q": text}, queryset=queryset).qs, PAGE_SIZE).get_page(1)
    rows = list(page)
    total = page.paginator.count
    elapsed = time.perf_counter() - started
    assert len(rows) <= PAGE_SIZE
    return elapsed, total


def api_seconds(client, path: str, text: str) -> tuple[float, int]:
    """Seconds for GET path?q=text (a page of 50, serialised), and its count."""
    started = time.perf_counter()
    response = client.get(path, {"q": text}, HTTP_HOST="localhost")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{path}?q={text} answered {response.status_code}")
    return elapsed, response.json()["count"]


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _timed(measure, text: str) -> tuple[float, int]:
    """`measure(text)`, or the statement timeout as its time (a query stopped there has no count)."""
    from django.db import OperationalError, connection

    try:
        return measure(text)
    except OperationalError:
        connection.close()  # the timed-out query's transaction state goes with the connection
        return TIMEOUT_S, -1


def measure(n_queries: int) -> dict:
    """{page: {kind: {p50, p95, max, hits}}} for this tree's code against the bench database."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.backends.signals import connection_created
    from django.test import Client

    from collections_app import selectors
    from collections_app.filters import ItemFilter, VersionFilter

    def statement_timeout(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(TIMEOUT_S * 1000)}")

    connection_created.connect(statement_timeout)
    connection.close()
    user, _created = get_user_model().objects.get_or_create(
        username="search-bench", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    lists = [
        ("/items/", lambda t: page_seconds(ItemFilter, selectors.items_for_catalogue(), t)),
        ("/versions/", lambda t: page_seconds(VersionFilter, selectors.versions_for_catalogue(), t)),
        ("/api/v1/items/", lambda t: api_seconds(client, "/api/v1/items/", t)),
        ("/api/v1/versions/", lambda t: api_seconds(client, "/api/v1/versions/", t)),
    ]
    for _path, timer in lists:  # warm the caches once
        _timed(timer, "香港")
    results: dict = {}
    for path, timer in lists:
        rng = random.Random(18)  # the same queries for every list and every tree
        rows = results.setdefault(path, {})
        for kind, texts in queries(rng, n_queries).items():
            timings, hits = zip(*(_timed(timer, t) for t in texts), strict=True)
            rows[kind] = _summary([t * 1000 for t in timings], hits)
        browse = [_timed(timer, "")[0] * 1000 for _ in range(5)]
        rows["(no query, browse)"] = _summary(browse, [])
    return results


def _summary(ms: list[float], hits) -> dict:
    counted = [h for h in hits if h >= 0]
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "max": max(ms),
        "hits": statistics.median(counted) if counted else None,
        "ms": ms,
    }


def run_tree(tree: Path, n_queries: int) -> dict:
    """`measure` in a process of its own with `tree`'s code (and its .venv when it has one)."""
    python = tree / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python if python.exists() else sys.executable), str(Path(__file__).resolve()), "--measure"]
        + [str(n_queries)],
        cwd=tree,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", DJANGO_DEBUG="0"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _print_one(results: dict) -> None:
    print(f"{'page':<19}{'query kind':<24}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'median hits':>13}")
    every = []
    for path, rows in results.items():
        for kind, row in rows.items():
            every += row["ms"]
            hits = "" if row["hits"] is None else f"{row['hits']:,.0f}"
            print(f"{path:<19}{kind:<24}{row['p50']:>8.0f}{row['p95']:>8.0f}{row['max']:>8.0f}{hits:>13}")
    print(f"all: p50 {percentile(every, 50):.0f} ms, p95 {percentile(every, 95):.0f} ms (target < 300 ms)")


def _print_side_by_side(base: dict, head: dict) -> None:
    print(
        f"{'page':<19}{'query kind':<24}{'base p50':>9}{'base p95':>9}{'head p50':>9}{'head p95':>9}"
        f"{'p95 head/base':>14}{'head hits':>10}"
    )
    every = {"base": [], "head": []}
    for path, rows in head.items():
        for kind, h in rows.items():
            b = base[path][kind]
            every["base"] += b["ms"]
            every["head"] += h["ms"]
            hits = "" if h["hits"] is None else f"{h['hits']:,.0f}"
            print(
                f"{path:<19}{kind:<24}{b['p50']:>9.0f}{b['p95']:>9.0f}{h['p50']:>9.0f}{h['p95']:>9.0f}"
                f"{h['p95'] / b['p95']:>13.2f}x{hits:>10}"
            )
    for label, ms in every.items():
        print(f"{label}, every search: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms")
    print(f"(target: p95 < 300 ms; times of {TIMEOUT_S:.0f} s are queries stopped by the statement timeout)")


def _setup_django() -> None:
    sys.path.insert(0, os.getcwd())  # the tree being measured: this one, or --base's
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def fill(items: int, versions: int) -> None:
    import psycopg

    base = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(base._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = urlunsplit(base._replace(path=f"/{DATABASE}"))
    _setup_django()
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    migration = importlib.import_module("collections_app.migrations.0010_catalogue_search")
    with connection.schema_editor() as editor:
        migration.drop_search_indexes(None, editor)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in fill_sql(items, versions):
            cursor.execute(sql)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        migration.create_search_indexes(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"filled in {filled:.0f} s, search indexes built in {time.perf_counter() - started:.0f} s")
    connection.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        _setup_django()
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--reuse", action="store_true", help="time the database filled by an earlier run")
    parser.add_argument("--base", help="root of a baseline tree (an unpacked copy of main) to time side by side")
    parser.add_argument("--rounds", type=int, default=2, help="times each tree is timed; the last is printed")
    parser.add_argument("--drop", action="store_true", help="drop the database when done")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not args.reuse:
        fill(args.items, args.versions)
    base_url = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(base_url._replace(path=f"/{DATABASE}"))
    try:
        # Turn about, head then baseline, `--rounds` times; the last round of each is printed, so both trees
        # are timed with caches the other has just warmed.
        for _round in range(args.rounds):
            head = run_tree(HERE, args.queries)
            base = run_tree(Path(args.base), args.queries) if args.base else None
    finally:
        if args.drop:
            import psycopg

            with psycopg.connect(urlunsplit(base_url._replace(path="/postgres")), autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    print(
        f"{args.queries} queries of each kind, round {args.rounds} of {args.rounds}, PostgreSQL, {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f}"
    )
    if base is None:
        _print_one(head)
    else:
        _print_side_by_side(base, head)


if __name__ == "__main__":
    main()
