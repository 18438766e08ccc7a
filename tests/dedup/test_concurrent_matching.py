"""Matching on several workers at once: no global lock, no pair verified twice, the clusters a rebuild gives."""

import io
import threading

import pytest
from django.db import connection
from PIL import ImageOps

from collections_app.models import Version
from collections_app.services import source_get_or_create, version_ingest
from dedup import services as processing
from dedup.matching import edges
from dedup.matching.rebuild import clusters_rebuild
from dedup.models import ClusterMember, MatchEdge, PairClaim
from tests.conftest import start_worker, stop_worker, wait_until
from tests.images import encode, scene

PROCESSING_CLASSID = processing.PROCESSING_LOCK_BASE >> 32


def _partition() -> list[list[str]]:
    groups: dict[int, set[str]] = {}
    for member in ClusterMember.objects.select_related("version"):
        groups.setdefault(member.cluster_id, set()).add(member.version.original_path)
    return sorted(sorted(g) for g in groups.values())


def _store(files: dict[str, bytes]) -> list[Version]:
    source = source_get_or_create(name="Library")
    return [
        version_ingest(
            fileobj=io.BytesIO(data), original_filename=name.split("/")[-1], original_path=name, source=source
        ).version
        for name, data in files.items()
    ]


def _copies(seed: int, prefix: str) -> dict[str, bytes]:
    picture = scene(seed, (900, 700))
    return {
        f"{prefix}/a.jpg": encode(picture, quality=92),
        f"{prefix}/b.jpg": encode(picture.resize((450, 350)), quality=80),
        f"{prefix}/c.png": encode(picture, "PNG"),
        f"{prefix}/d.jpg": encode(ImageOps.mirror(picture), quality=88),
    }


@pytest.mark.django_db(transaction=True)
def test_two_copies_finishing_together_are_verified_once_and_never_under_a_lock(monkeypatch):
    """Both workers commit their fingerprint before either probes, so each finds the other: one verifies."""
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    picture = scene(7, (800, 600))
    a, b = _store({"x/a.jpg": encode(picture, quality=92), "x/b.png": encode(picture, "PNG")})
    committed = threading.Barrier(2, timeout=30)
    record = processing.fingerprint_record
    compare = edges.edge_compare
    verified, locks_held = [], []

    def record_then_wait(**kwargs):
        fingerprint = record(**kwargs)
        committed.wait()  # both fingerprints are committed and visible before either worker probes
        return fingerprint

    def compare_and_note(first, second):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'"
                " AND classid <> %s",
                [PROCESSING_CLASSID],
            )
            locks_held.append(cursor.fetchone()[0])
        verified.append((first.version_id, second.version_id))
        return compare(first, second)

    monkeypatch.setattr(processing, "fingerprint_record", record_then_wait)
    monkeypatch.setattr(edges, "edge_compare", compare_and_note)
    errors = []

    def work(version_id):
        try:
            processing.version_process(version_id=version_id)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(v.pk,)) for v in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert verified == [(a.pk, b.pk)]
    assert locks_held == [0]
    assert _partition() == [["x/a.jpg", "x/b.png"]]
    assert list(PairClaim.objects.values_list("version_a_id", "version_b_id")) == [(a.pk, b.pk)]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_many_workers_on_copies_chains_and_merging_components_end_in_the_clusters_rebuild_gives(live_broker, workers):
    files = {}
    for n in range(3):
        files.update(_copies(200 + n, f"p{n}"))
    # A chain: each copy made from the one before, so the last is far from the first and joins through the middle.
    link = scene(300, (900, 700))
    for step in range(4):
        files[f"chain/{step}.jpg"] = encode(link, quality=85)
        link = link.resize((link.width * 9 // 10, link.height * 9 // 10))
    files["alone.jpg"] = encode(scene(400, (900, 700)), quality=90)
    options = [("--pool=solo", "-n", f"w{n}@%h") for n in range(2)] if workers == 2 else [("--concurrency=4",)]
    processes = [start_worker(*args) for args in options]
    try:
        _store(files)
        wait_until(lambda: not Version.objects.exclude(status__in=["done", "failed"]).exists(), timeout=180)
    finally:
        for process in processes:
            stop_worker(process)
    assert set(Version.objects.values_list("status", flat=True)) == {"done"}
    incremental = _partition()
    assert ["p0/a.jpg", "p0/b.jpg", "p0/c.png", "p0/d.jpg"] in incremental
    # Every stored edge was verified under a claim: no pair was verified by two workers.
    edge_pairs = set(MatchEdge.objects.values_list("version_a_id", "version_b_id"))
    assert edge_pairs <= set(PairClaim.objects.values_list("version_a_id", "version_b_id"))
    clusters_rebuild()
    assert _partition() == incremental
