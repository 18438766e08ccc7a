"""The embedded SQLite candidate probe fetches what the PostgreSQL one does, whatever database the suite runs on.

The probe's SQL runs on an in-memory SQLite database holding the columns it reads and the key indexes, and its
rows are checked against the key condition written out in Python.
"""

import json
import re
import sqlite3

import numpy as np
import pytest

from dedup.imaging.index import KEY_LAYOUT, keys, to_signed
from dedup.matching.candidates import _PROBE_SQLITE, _key_arrays, key_sql

SCHEMA = """
CREATE TABLE collections_app_version (id integer PRIMARY KEY, status text, sha256 text, page_number integer);
CREATE TABLE dedup_fingerprint (version_id integer UNIQUE);
CREATE TABLE dedup_hashentry (version_id integer, value integer, upright bool);
""" + "".join(
    f"CREATE INDEX he_key{k} ON dedup_hashentry ({key_sql('value', k)});"
    f"CREATE INDEX he_upright_key{k} ON dedup_hashentry ({key_sql('value', k)}) WHERE upright;"
    for k in range(len(KEY_LAYOUT))
)


@pytest.fixture
def db():
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    yield conn
    conn.close()


def _store(db, rng, query: int) -> list[tuple[int, int, bool, str]]:
    """200 versions, 3 hashes each: near copies of `query`, flips in one block only, and unrelated ones."""
    entries = []
    for version in range(1, 201):
        status = "failed" if version % 23 == 0 else "done"
        page = 2 if version % 3 == 0 else None
        db.execute(
            "INSERT INTO collections_app_version VALUES (?, ?, ?, ?)", (version, status, f"s{version % 7}", page)
        )
        db.execute("INSERT INTO dedup_fingerprint VALUES (?)", (version,))
        for n in range(3):
            kind = rng.integers(3)
            if kind == 0:
                value = query ^ int(rng.integers(0, 2**64, dtype=np.uint64))
            else:
                flips = rng.choice(64, size=int(rng.integers(1, 12)), replace=False)
                if kind == 2:  # every flip in one key: a far hash that still shares the two others
                    flips = 21 * int(rng.integers(3)) + rng.choice(21, size=min(len(flips), 21), replace=False)
                value = query ^ sum(1 << int(b) for b in flips)
            entries.append((version, value, n == 0, status))
            db.execute("INSERT INTO dedup_hashentry VALUES (?, ?, ?)", (version, to_signed(value), n == 0))
    return entries


def _probe(db, upright, hashes, sha, page, exclude):
    params = {"failed": "failed", "exclude": exclude, "sha": sha, "page": page}
    for prefix, values in (("u", upright), ("a", hashes)):
        for k, column in enumerate(_key_arrays(values)):
            params[f"{prefix}{k}"] = json.dumps(column)
    return db.execute(re.sub(r"%\((\w+)\)s", r":\1", _PROBE_SQLITE), params).fetchall()


def test_the_sqlite_probe_returns_the_key_matches_and_the_same_bytes(db):
    rng = np.random.default_rng(5)
    query = int(rng.integers(0, 2**64, dtype=np.uint64))
    entries = _store(db, rng, query)
    upright, hashes = [query], sorted({query, query ^ 0xFF00})
    u, a = _key_arrays(upright), _key_arrays(hashes)
    expected = {
        (v, to_signed(value), int(up))
        for v, value, up, status in entries
        if status != "failed"
        and v != 7
        and (
            any(b in u[k] for k, b in enumerate(keys(value)))
            or (up and any(b in a[k] for k, b in enumerate(keys(value))))
        )
    }
    found = _probe(db, upright, hashes, sha="s3", page=2, exclude=7)
    assert {row for row in found if row[1] is not None} == expected
    assert len(expected) > 100
    # Same bytes: checksum s3 is versions 3, 10, 17...; of those, page 2 is every third, failed ones left out.
    same = sorted(row[0] for row in found if row[1] is None)
    assert same == [v for v in range(1, 201) if v % 7 == 3 and v % 3 == 0 and v % 23 and v != 7]


def test_the_sqlite_probe_matches_a_missing_page_number_to_a_missing_one(db):
    rng = np.random.default_rng(6)
    _store(db, rng, int(rng.integers(0, 2**64, dtype=np.uint64)))
    same = sorted(row[0] for row in _probe(db, [1], [1], sha="s1", page=None, exclude=-1) if row[1] is None)
    assert same == [v for v in range(1, 201) if v % 7 == 1 and v % 3 and v % 23]


def test_the_sqlite_probe_looks_the_keys_up_in_their_indexes(db):
    """Every key condition is answered by its expression index, never by scanning the entries."""
    params = {"failed": "failed", "exclude": -1, "sha": "s", "page": None}
    params |= {f"{prefix}{k}": "[1, 2]" for prefix in "ua" for k in range(len(KEY_LAYOUT))}
    plan = " ".join(
        str(row[-1])
        for row in db.execute("EXPLAIN QUERY PLAN " + re.sub(r"%\((\w+)\)s", r":\1", _PROBE_SQLITE), params)
    )
    assert all(f"INDEX he_key{k}" in plan and f"INDEX he_upright_key{k}" in plan for k in range(len(KEY_LAYOUT)))
    assert "SCAN h" not in plan
