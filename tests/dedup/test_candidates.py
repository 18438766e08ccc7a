"""The candidate probe returns exactly the versions within the radius, as a brute-force search finds them.

Fingerprints are stored through the real write path (`hash_entries_replace`); the expected answer compares every
pair of hashes in Python: an upright hash of either version within the radius of any hash of the other.
"""

import numpy as np
import pytest

from collections_app.models import Version
from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.index import hamming, to_signed
from dedup.matching.candidates import candidates_for, candidates_for_hashes, match_radius
from dedup.matching.hash_entries import hash_entries_replace
from dedup.models import Fingerprint
from tests.factories import VersionFactory

pytestmark = pytest.mark.django_db


def _fingerprint(version: Version, hashes: list[int]) -> Fingerprint:
    """A fingerprint with 22 searchable hashes as today's have (8 upright: pHash, trimmed, the middle's, five
    reframed; 14 rotations and mirrors of the whole and of the middle), its index rows written."""
    phash, *rest = (to_signed(h) for h in hashes)
    fingerprint = Fingerprint.objects.create(
        version=version,
        phash=phash,
        dhash=0,
        phash_dihedral=[phash, *rest[0:7]],
        phash_trimmed=rest[7],
        phash_centre=rest[8:16],
        phash_reframed=rest[16:21],
        rendition=b"",
        rendition_width=1,
        rendition_height=1,
    )
    hash_entries_replace(fingerprint=fingerprint)
    return fingerprint


def _near(rng: np.random.Generator, value: int, flips: int, *, block: int | None = None) -> int:
    """`value` with `flips` bits flipped, all in one 16-bit block when `block` is given."""
    bits = rng.choice(16, size=min(flips, 16), replace=False) + 16 * block if block is not None else None
    if bits is None:
        bits = rng.choice(64, size=flips, replace=False)
    return value ^ sum(1 << int(b) for b in bits)


def _random(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**64, dtype=np.uint64))


def _document(rng: np.random.Generator, centres: list[int]) -> int:
    """A page-like hash: one of many centres that share their top 32 bits (two blocks every entry has alike),
    with 0-2 bits flipped."""
    return _near(rng, centres[int(rng.integers(len(centres)))], int(rng.integers(3)))


def _collection(rng: np.random.Generator, draw, probe_hashes: list[int], count: int) -> None:
    """`count` stored versions: some with one hash near one of the probe's (0-12 bits, often in one block,
    upright or not on either side), some far, every 17th failed."""
    for n in range(count):
        status = Version.Status.FAILED if n % 17 == 0 else Version.Status.DONE
        version = VersionFactory(status=status)
        hashes = [draw(rng) for _ in range(22)]
        for _ in range(int(rng.integers(3))):
            slot, source = int(rng.integers(22)), probe_hashes[int(rng.integers(22))]
            block = int(rng.integers(4)) if rng.random() < 0.3 else None
            hashes[slot] = _near(rng, source, int(rng.integers(13)), block=block)
        _fingerprint(version, hashes)


def _brute_force(probe: Fingerprint) -> dict[int, int]:
    radius, found = match_radius(), {}
    mine_all, mine_upright = searchable_hashes(probe), upright_hashes(probe)
    for other in Fingerprint.objects.exclude(pk=probe.pk).exclude(version__status=Version.Status.FAILED):
        theirs_all, theirs_upright = searchable_hashes(other), upright_hashes(other)
        pairs = [(a, b) for a in mine_upright for b in theirs_all] + [(a, b) for a in mine_all for b in theirs_upright]
        distance = min(hamming(a, b) for a, b in pairs)
        if distance <= radius:
            found[other.version_id] = distance
    return found


@pytest.mark.parametrize("kind", ["random", "documents"])
def test_the_probe_returns_exactly_the_versions_within_the_radius(kind):
    rng = np.random.default_rng(11 if kind == "random" else 12)
    centres = [0xA5A5_A5A5_0000_0000 | int(rng.integers(0, 2**32)) for _ in range(200)]
    draw = _random if kind == "random" else (lambda r: _document(r, centres))
    probe_hashes = [draw(rng) for _ in range(22)]
    _collection(rng, draw, probe_hashes, 240)
    probe = _fingerprint(VersionFactory(), probe_hashes)
    expected = _brute_force(probe)
    assert candidates_for(fingerprint=probe) == expected
    distances = set(expected.values())
    assert len(expected) > 40 and {7, 8} <= distances  # the answer reaches the edge of the radius
    assert len(_brute_force_beyond(probe, match_radius() + 1)) > len(expected)  # and some lie just beyond it


def _brute_force_beyond(probe: Fingerprint, radius: int) -> dict[int, int]:
    from django.test import override_settings

    with override_settings(DUPFINDER_MATCH_RADIUS=radius):
        return _brute_force(probe)


def test_a_copy_outside_the_collection_finds_the_same_versions_and_the_same_bytes():
    rng = np.random.default_rng(13)
    probe_hashes = [_random(rng) for _ in range(22)]
    _collection(rng, _random, probe_hashes, 120)
    probe = _fingerprint(VersionFactory(sha256="ab" * 32), probe_hashes)
    expected = _brute_force(probe)
    same_bytes = VersionFactory(sha256="ab" * 32)
    _fingerprint(same_bytes, [_random(rng) for _ in range(22)])
    probe.version.delete()
    found = candidates_for_hashes(
        upright=upright_hashes(probe), hashes=searchable_hashes(probe), sha256="ab" * 32, limit=1000
    )
    assert found == {**expected, same_bytes.pk: 0}
