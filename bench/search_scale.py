"""Catalogue search at scale: p50/p95 of the catalogue page's search with 1,000,000 versions and 500,000 items.

Creates its own PostgreSQL database (dropped first; never the one in DATABASE_URL), migrates it, fills it
with generate_series in SQL (the search indexes are dropped for the fill and built afterwards from migration
0010's own definitions, as building a GIN index once is much faster than keeping it up to date row by row),
then times what /items/?q= does for each query: the count and the first page of 24 items with thumbnails and
version counts (collections_app.filters.ItemFilter over selectors.items_for_catalogue), and the same for
/versions/?q=. Queries: two-character Chinese words, longer Chinese phrases, partial identifiers, English
words (full-text, by stem) and parts of file names.

    .venv/bin/python -m bench.search_scale                      # 1,000,000 versions, 500,000 items
    .venv/bin/python -m bench.search_scale --items 100000 --versions 200000
    .venv/bin/python -m bench.search_scale --reuse              # time again without refilling

Target: p95 under 300 ms for every kind of query.
"""

import argparse
import importlib
import os
import random
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

DATABASE = "dupfinder_search_scale"
PAGE_SIZE = 24

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


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--reuse", action="store_true", help="time the database filled by an earlier run")
    args = parser.parse_args()

    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    if args.reuse is False:
        import psycopg

        with psycopg.connect(urlunsplit(base._replace(path="/postgres")), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = urlunsplit(base._replace(path=f"/{DATABASE}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from collections_app import selectors
    from collections_app.filters import ItemFilter, VersionFilter

    if not args.reuse:
        call_command("migrate", verbosity=0)
        migration = importlib.import_module("collections_app.migrations.0010_catalogue_search")
        with connection.schema_editor() as editor:
            migration.drop_search_indexes(None, editor)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in fill_sql(args.items, args.versions):
                cursor.execute(sql)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        from django.apps import apps

        with connection.schema_editor() as editor:
            migration.create_search_indexes(apps, editor)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"filled in {filled:.0f} s, search indexes built in {time.perf_counter() - started:.0f} s")

    from collections_app.models import Item, Version

    print(f"{Item.objects.count():,} items, {Version.objects.count():,} versions, PostgreSQL, {os.cpu_count()} cores")
    rng = random.Random(18)
    lists = [
        ("/items/", ItemFilter, selectors.items_for_catalogue()),
        ("/versions/", VersionFilter, selectors.versions_for_catalogue()),
    ]
    for _path, filter_class, queryset in lists:  # warm the caches once
        page_seconds(filter_class, queryset, "香港")
    print(f"{'page':<11}{'query kind':<24}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'median hits':>13}")
    every: list[float] = []
    for path, filter_class, queryset in lists:
        for kind, texts in queries(rng, args.queries).items():
            timings, hits = zip(*(page_seconds(filter_class, queryset, t) for t in texts), strict=True)
            ms = [t * 1000 for t in timings]
            every += ms
            print(
                f"{path:<11}{kind:<24}{percentile(ms, 50):>8.0f}{percentile(ms, 95):>8.0f}{max(ms):>8.0f}"
                f"{statistics.median(hits):>13,.0f}"
            )
        browse_ms = [page_seconds(filter_class, queryset, "")[0] * 1000 for _ in range(10)]
        every += browse_ms
        print(f"{path:<11}{'(no query, browse)':<24}{percentile(browse_ms, 50):>8.0f}{percentile(browse_ms, 95):>8.0f}")
    p95 = percentile(every, 95)
    print(f"all searches: p50 {percentile(every, 50):.0f} ms, p95 {p95:.0f} ms (target < 300 ms)")


if __name__ == "__main__":
    main()
