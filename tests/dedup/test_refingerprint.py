"""`manage.py refingerprint`: versions under an older fingerprint contract are fingerprinted again through the
worker task, matched again, and nothing curated, verified or stored is lost; an unreadable file keeps its print."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from collections_app.failures import failure_text
from collections_app.models import Version
from dedup.imaging.errors import Failure
from dedup.imaging.fingerprint import CONTRACT
from dedup.imaging.index import to_signed, to_unsigned
from dedup.models import (
    Cluster,
    ClusterMember,
    Fingerprint,
    HashEntry,
    MatchEdge,
    NotDuplicatePair,
    RefingerprintRequest,
)
from dedup.review.services import cluster_merge, pair_mark_not_duplicate
from dedup.services import version_preview_ensure
from tests.conftest import store_file, wait_until
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _refingerprint(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("refingerprint", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _copies(add_version, seed: int, prefix: str) -> tuple[Version, Version]:
    picture = scene(seed, (640, 480))
    a = add_version(f"{prefix}/original.jpg", encode(picture, quality=92))
    b = add_version(f"{prefix}/small.jpg", encode(picture.resize((480, 360)), quality=85))
    return a, b


def _made_stale(version: Version) -> tuple[int, set[int]]:
    """Mark the version's fingerprint as computed before contracts, with a wrong pHash and one wrong hash entry;
    returns the pHash and hash entries fingerprinting gave."""
    fingerprint = Fingerprint.objects.get(pk=version.pk)
    good = (fingerprint.phash, set(HashEntry.objects.filter(version=version).values_list("value", flat=True)))
    wrong = to_signed(to_unsigned(fingerprint.phash) ^ 0xFFFF_0000_FFFF)
    Fingerprint.objects.filter(pk=version.pk).update(contract=1, phash=wrong, thumb_small="")
    HashEntry.objects.filter(version=version).delete()
    HashEntry.objects.create(version=version, value=wrong, upright=True)
    return good


def _cluster_of(version: Version) -> int | None:
    return ClusterMember.objects.filter(version=version).values_list("cluster_id", flat=True).first()


def test_a_fingerprint_under_an_older_contract_is_computed_again_and_its_cluster_kept(add_version):
    a, b = _copies(add_version, 41, "one")
    cluster = _cluster_of(a)
    assert cluster is not None and _cluster_of(b) == cluster
    phash, entries = _made_stale(a)
    b_print = Fingerprint.objects.get(pk=b.pk)

    out, _err = _refingerprint()

    fingerprint = Fingerprint.objects.get(pk=a.pk)
    assert (fingerprint.contract, fingerprint.phash) == (CONTRACT, phash)
    assert set(HashEntry.objects.filter(version=a).values_list("value", flat=True)) == entries
    assert fingerprint.thumb_small  # thumbnails written again
    assert Version.objects.get(pk=a.pk).status == Version.Status.DONE
    assert _cluster_of(a) == _cluster_of(b) == cluster
    # b was already under the current contract: not fingerprinted again.
    assert Fingerprint.objects.get(pk=b.pk).timings == b_print.timings
    assert not RefingerprintRequest.objects.exists()
    assert "Queued 1 versions" in out and "Fingerprinted again: 1; kept their old fingerprint: 0." in out


def test_processing_writes_the_current_contract_and_rows_stored_before_it_read_contract_1(add_version):
    version = add_version("new.jpg", encode(scene(42), quality=90))
    assert Fingerprint.objects.get(pk=version.pk).contract == CONTRACT
    with connection.cursor() as cursor:  # a row as migration 0018 found it: the column's database default
        cursor.execute(
            f"UPDATE {Fingerprint._meta.db_table} SET contract = DEFAULT WHERE version_id = %s", [version.pk]
        )
    assert Fingerprint.objects.get(pk=version.pk).contract == 1
    assert "1 versions would be fingerprinted again" in _refingerprint("--dry-run")[0]


def test_a_file_that_cannot_be_read_keeps_its_old_fingerprint_and_is_reported(add_version):
    gone = add_version("gone.jpg", encode(scene(43), quality=90))
    broken = add_version("broken.jpg", encode(scene(44), quality=90))
    healthy = add_version("healthy.jpg", encode(scene(45), quality=90))
    stale = {v.pk: _made_stale(v) for v in (gone, broken, healthy)}
    before = {pk: Fingerprint.objects.get(pk=pk).phash for pk in stale}
    gone.file.storage.delete(gone.file.name)
    with broken.file.storage.open(broken.file.name, "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 not a JPEG any more")

    out, _err = _refingerprint()

    for version in (gone, broken):
        fingerprint = Fingerprint.objects.get(pk=version.pk)
        assert (fingerprint.contract, fingerprint.phash) == (1, before[version.pk])
        version.refresh_from_db()
        assert (version.status, version.error_code) == (Version.Status.DONE, "")
    kept = RefingerprintRequest.objects.get(pk=gone.pk)
    assert kept.error_code == Failure.STORED_FILE_MISSING
    assert f"  kept gone.jpg: {failure_text(Failure.STORED_FILE_MISSING)}" in out
    broken_reason = RefingerprintRequest.objects.get(pk=broken.pk)
    assert f"  kept broken.jpg: {failure_text(broken_reason.error_code, broken_reason.error_params)}" in out
    assert "Fingerprinted again: 1; kept their old fingerprint: 2." in out
    assert Fingerprint.objects.get(pk=healthy.pk).phash == stale[healthy.pk][0]  # the others carry on
    # The next run tries the two again (the file may have been restored meanwhile); the healthy one is current.
    assert set(Version.objects.filter(pk__in=stale).values_list("pk", flat=True)) & set(
        RefingerprintRequest.objects.values_list("pk", flat=True)
    ) == {gone.pk, broken.pk}
    assert "2 versions would be fingerprinted again" in _refingerprint("--dry-run")[0]


def test_a_dry_run_counts_and_changes_nothing(add_version):
    version = add_version("a.jpg", encode(scene(46), quality=90))
    add_version("b.jpg", encode(scene(47), quality=90))
    _made_stale(version)
    stale = Fingerprint.objects.get(pk=version.pk)

    out, _err = _refingerprint("--dry-run")

    assert "1 versions would be fingerprinted again (contract %d); nothing was queued" % CONTRACT in out
    after = Fingerprint.objects.get(pk=version.pk)
    assert (after.contract, after.phash, after.thumb_small) == (1, stale.phash, "")
    assert list(HashEntry.objects.filter(version=version).values_list("value", flat=True)) == [stale.phash]
    assert not RefingerprintRequest.objects.exists()
    assert "2 versions would be fingerprinted again" in _refingerprint("--dry-run", "--all")[0]


def test_merges_and_not_duplicate_decisions_survive_a_refingerprint(add_version, make_user):
    curator = make_user("curator")
    a, b = _copies(add_version, 48, "merged")
    c, d = _copies(add_version, 49, "apart")
    cluster_merge(cluster_id=_cluster_of(a), actor=curator, authoritative_id=b.pk)
    pair_mark_not_duplicate(version_a_id=c.pk, version_b_id=d.pk, actor=curator)
    assert _cluster_of(c) is None and _cluster_of(d) is None
    edges = set(MatchEdge.objects.values_list("version_a_id", "version_b_id", "is_duplicate", "kind"))
    merged = {v.pk: (v.item_id, v.duplicate_of_id) for v in Version.objects.filter(pk__in=[a.pk, b.pk])}
    for version in (a, b, c, d):
        _made_stale(version)

    out, _err = _refingerprint()

    assert "Fingerprinted again: 4; kept their old fingerprint: 0." in out
    assert set(Fingerprint.objects.values_list("contract", flat=True)) == {CONTRACT}
    assert {v.pk: (v.item_id, v.duplicate_of_id) for v in Version.objects.filter(pk__in=[a.pk, b.pk])} == merged
    cluster = Cluster.objects.get(pk=_cluster_of(a))
    assert cluster.status == Cluster.Status.RESOLVED and _cluster_of(b) == cluster.pk
    assert NotDuplicatePair.objects.filter(version_a_id=c.pk, version_b_id=d.pk).exists()
    assert _cluster_of(c) is None and _cluster_of(d) is None
    assert set(MatchEdge.objects.values_list("version_a_id", "version_b_id", "is_duplicate", "kind")) >= edges


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_refingerprint_wait_returns_once_a_real_worker_has_fingerprinted_them(live_worker):
    from dedup.services import version_process

    versions = []
    for n in range(2):
        version = store_file(f"w/{n}.jpg", encode(scene(50 + n), quality=90))
        version_process(version_id=version.pk)
        versions.append(version)
        _made_stale(version)

    out, err = _refingerprint("--wait", "--timeout", "60")

    assert "Fingerprinted again: 2; kept their old fingerprint: 0." in out
    assert "Fingerprinting again: 2/2 versions (100%)" in err
    assert set(Fingerprint.objects.values_list("contract", flat=True)) == {CONTRACT}
    wait_until(lambda: not RefingerprintRequest.objects.exists(), timeout=5)


def test_a_photo_keeps_the_preview_made_from_its_file(add_version):
    a, _b = _copies(add_version, 43, "preview")
    assert Fingerprint.objects.get(pk=a.pk).thumb_preview == ""  # a JPEG photo is fingerprinted at 1/8
    made = version_preview_ensure(version_id=a.pk)
    assert made
    _made_stale(a)

    _refingerprint()

    fingerprint = Fingerprint.objects.get(pk=a.pk)
    assert fingerprint.contract == CONTRACT and fingerprint.thumb_small
    assert fingerprint.thumb_preview == made
