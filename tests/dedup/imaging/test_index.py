"""Candidate index: signed storage, block probes, bulk pair join and the candidate filter."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from bench import index_scale
from dedup.imaging import index
from dedup.imaging.index import (
    TruncatedGroupsWarning,
    blocks,
    candidate_filter,
    hamming,
    pairs_within,
    probe_blocks,
    probe_slack,
    to_signed,
    to_unsigned,
)

EDGES = [0, 1, 0xFFFF, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, 2**64 - 1]


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, n, dtype=np.uint64)


def flip_bits(rng: np.random.Generator, values: np.ndarray, most: int) -> np.ndarray:
    out = values.copy()
    for _ in range(most):
        bit = rng.integers(0, 64, len(out)).astype(np.uint64)
        out ^= np.where(rng.random(len(out)) < 0.5, np.uint64(1) << bit, np.uint64(0))
    return out


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Near copies of a few hundred originals, some identical, plus one big blank-page group."""
    bases = uniform(rng, n // 10)
    values = flip_bits(rng, bases[rng.integers(0, len(bases), n)], most=5)
    values[: n // 20] = 1 << 63
    return values


def skewed(rng: np.random.Generator, n: int) -> np.ndarray:
    """Document-like: the top 40 bits nearly constant, so one block holds almost everyone."""
    low = rng.integers(0, 2**24, n, dtype=np.uint64)
    return flip_bits(rng, np.uint64(0xA5A5_A5A5_A500_0000) | low, most=2)


def brute_pairs(hashes: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    dist = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    i, j = np.nonzero(np.triu(dist <= radius, k=1))
    return set(zip(i.tolist(), j.tolist(), dist[i, j].tolist(), strict=True))


def as_set(rows: np.ndarray) -> set[tuple[int, int, int]]:
    return set(map(tuple, rows.tolist()))


# --- signed storage and blocks -------------------------------------------------------------


@pytest.mark.parametrize("h", EDGES)
def test_signed_storage_round_trips_and_fits_bigint(h):
    signed = to_signed(h)
    assert -(2**63) <= signed < 2**63
    assert to_unsigned(signed) == h
    assert signed == int(np.array([h], dtype=np.uint64).view(np.int64)[0])


def test_signed_storage_maps_the_top_half_to_negatives():
    assert to_signed(2**63) == -(2**63)
    assert to_signed(2**64 - 1) == -1
    assert to_signed(2**63 - 1) == 2**63 - 1


@pytest.mark.parametrize(("convert", "value"), [(to_signed, -1), (to_signed, 2**64), (to_unsigned, 2**63)])
def test_signed_storage_refuses_values_outside_64_bits(convert, value):
    with pytest.raises(ValueError):
        convert(value)


def test_blocks_are_16_bit_slices_most_significant_first():
    assert blocks(0x0123_4567_89AB_CDEF) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    assert blocks(2**64 - 1) == (0xFFFF,) * 4
    with pytest.raises(ValueError):
        blocks(-1)


def test_hamming_counts_differing_bits_in_signed_or_unsigned_form():
    assert hamming(0, 2**64 - 1) == 64
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(to_signed(2**64 - 1), 2**64 - 1) == 0
    assert hamming(to_signed(2**63), 0) == 1


# --- probe guarantee -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("radius", "sizes"),
    [
        (0, [1, 1, 1, 1]),
        (3, [1, 1, 1, 1]),
        (4, [1, 1, 1, 17]),
        (6, [1, 17, 17, 17]),
        (7, [17] * 4),
        (8, [1, 17, 137, 137]),
    ],
)
def test_probe_blocks_takes_every_value_within_each_block_slack(radius, sizes):
    h = 0x0123_4567_89AB_CDEF
    probes = probe_blocks(h, radius)
    assert [len(p) for p in probes] == sizes
    assert all(value in p for value, p in zip(blocks(h), probes, strict=True))


@pytest.mark.parametrize("radius", range(9))
def test_probe_slack_meets_the_pigeonhole_bound_and_widens_b0_only_at_radius_7(radius):
    """The pigeonhole condition: a miss needs slack + 1 differing bits in all 4 blocks."""
    slack = probe_slack(radius)
    assert len(slack) == 4 and sum(slack) >= radius - 3
    assert slack[0] == (radius == 7)


@pytest.mark.parametrize("radius", [-1, 9])
def test_probe_blocks_refuses_radius_outside_0_to_8(radius):
    with pytest.raises(ValueError):
        probe_blocks(0, radius)


def spread_flips(rng: np.random.Generator, h: int, distance: int) -> int:
    """Flip `distance` bits dealt round-robin over the blocks: the case pigeonhole must survive."""
    for n, block in enumerate(rng.permutation(4).tolist() * 16):
        if n == distance:
            break
        h ^= 1 << (16 * block + int(rng.integers(0, 16)))
    return h


@pytest.mark.parametrize("radius", range(9))
def test_probe_blocks_finds_every_stored_hash_within_radius(radius):
    rng = np.random.default_rng(radius)
    misses = []
    for h in uniform(rng, 300).tolist():
        probes = probe_blocks(h, radius)
        near = [spread_flips(rng, h, d) for d in range(radius + 1) for _ in range(4)]
        near += [h ^ (1 << int(b)) ^ (1 << int(c)) for b, c in rng.integers(0, 64, (8, 2))]
        stored = near + uniform(rng, 20).tolist()
        within = [s for s in stored if hamming(h, s) <= radius]
        misses += [s for s in within if not any(v in p for v, p in zip(blocks(s), probes, strict=True))]
    assert misses == []


# --- bulk join -------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [0, 3, 6, 8])
@pytest.mark.parametrize("make", [uniform, clustered, skewed])
def test_pairs_within_equals_brute_force(make, radius):
    hashes = make(np.random.default_rng(7), 3000)
    assert as_set(pairs_within(hashes, radius)) == brute_pairs(hashes, radius)


@pytest.mark.parametrize("radius", [1, 4, 5, 7, 8])
def test_pairs_within_equals_brute_force_at_every_slack_pattern(radius):
    hashes = clustered(np.random.default_rng(radius), 2000)
    assert as_set(pairs_within(hashes, radius)) == brute_pairs(hashes, radius)


@pytest.mark.parametrize("radius", [6, 8])
def test_pairs_within_on_document_like_pages_equals_brute_force_with_distances(radius):
    """Layout families sharing their low frequencies, and repeated blank pages, as bench.index_scale draws them."""
    hashes = index_scale.documents(4000, np.random.default_rng(radius))
    assert as_set(pairs_within(hashes, radius)) == brute_pairs(hashes, radius)


def test_pairs_within_rows_are_unique_with_i_below_j():
    hashes = clustered(np.random.default_rng(3), 3000)
    rows = pairs_within(hashes, 6)
    assert rows.shape[1] == 3 and len(rows) > 1000
    assert (rows[:, 0] < rows[:, 1]).all()
    assert len(np.unique(rows[:, :2], axis=0)) == len(rows)
    assert (rows[:, 2] == np.bitwise_count(hashes[rows[:, 0]] ^ hashes[rows[:, 1]])).all()


@pytest.mark.parametrize("radius", [3, 6, 8])
def test_pairs_within_stays_exact_when_large_groups_are_split_and_chunked(monkeypatch, radius):
    """Without bit balancing, hashes sharing 40 bits force nested splits at widths 64, 48 and 36."""
    monkeypatch.setattr(index, "_bit_order", lambda values, width: None)
    monkeypatch.setattr(index, "_SPLIT_PAIRS", 1024)
    monkeypatch.setattr(index, "_CHUNK", 500)
    hashes = skewed(np.random.default_rng(1), 1500)
    assert as_set(pairs_within(hashes, radius)) == brute_pairs(hashes, radius)


@pytest.mark.parametrize("radius", [3, 6, 8])
def test_pairs_within_stays_exact_when_bits_are_rebalanced_and_groups_split(monkeypatch, radius):
    monkeypatch.setattr(index, "_SPLIT_PAIRS", 256)
    hashes = np.concatenate([skewed(np.random.default_rng(1), 1000), clustered(np.random.default_rng(2), 1000)])
    assert index._bit_order(np.unique(hashes), 64) is not None
    assert as_set(pairs_within(hashes, radius)) == brute_pairs(hashes, radius)


def test_pairs_within_joins_identical_hashes_once_each():
    hashes = np.array([5, 7, 5, 5, 2**64 - 1, 7], dtype=np.uint64)
    assert as_set(pairs_within(hashes, 0)) == {(0, 2, 0), (0, 3, 0), (2, 3, 0), (1, 5, 0)}
    assert as_set(pairs_within(hashes, 1)) == brute_pairs(hashes, 1)


def test_pairs_within_reads_signed_storage_like_unsigned():
    hashes = clustered(np.random.default_rng(4), 1000)
    assert as_set(pairs_within(hashes.view(np.int64), 5)) == as_set(pairs_within(hashes, 5))


def test_pairs_within_handles_empty_and_single_inputs():
    assert pairs_within(np.array([], dtype=np.uint64), 3).shape == (0, 3)
    assert pairs_within(np.array([42], dtype=np.uint64), 7).shape == (0, 3)


def test_pairs_within_refuses_radius_above_8_and_other_dtypes():
    with pytest.raises(ValueError):
        pairs_within(np.zeros(3, dtype=np.uint64), 9)
    with pytest.raises(TypeError):
        pairs_within(np.zeros(3, dtype=np.float64), 3)


def test_max_group_keeps_the_first_copies_and_warns_with_what_was_left_out():
    hashes = np.array([9] * 5 + [8], dtype=np.uint64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = pairs_within(hashes, 1, max_group=2)
    assert as_set(rows) == {(0, 1, 0), (0, 5, 1), (1, 5, 1)}
    (warning,) = [w.message for w in caught if isinstance(w.message, TruncatedGroupsWarning)]
    assert warning.dropped == {9: 3}


def test_max_group_is_silent_when_no_value_is_over_shared():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = pairs_within(np.array([1, 1, 3], dtype=np.uint64), 1, max_group=2)
    assert as_set(rows) == {(0, 1, 0), (0, 2, 1), (1, 2, 1)}


# --- candidate filter ------------------------------------------------------------------------


def test_candidate_filter_reports_the_closest_query_variant():
    stored = 0xF0F0_0000_0000_0000
    variants = [stored ^ 0b11111, 2**64 - 1, 0, stored ^ 0b1, 12345]
    assert candidate_filter(variants, [(10, stored)], radius=6) == [(10, 1, 3)]


def test_candidate_filter_prefers_the_lowest_variant_on_ties():
    variants = [0b1, 0b10, 0b100]
    assert candidate_filter(variants, [(1, 0)], radius=3) == [(1, 1, 0)]


def test_candidate_filter_drops_rows_beyond_radius_and_sorts_nearest_first():
    q = 0x1234_5678_9ABC_DEF0
    rows = [(1, q ^ 0b111), (2, q ^ (2**64 - 1)), (3, q), (4, q ^ 0b1111111)]
    assert candidate_filter([q], rows, radius=3) == [(3, 0, 0), (1, 3, 0)]


def test_candidate_filter_keeps_one_row_per_version_and_reads_signed_hashes():
    q = 2**64 - 1
    rows = [(7, to_signed(q ^ 0b11)), (7, to_signed(q)), (8, to_signed(q ^ 0b1))]
    assert candidate_filter([0, q], rows, radius=2) == [(7, 0, 1), (8, 1, 1)]


def test_candidate_filter_with_nothing_probed_returns_nothing():
    assert candidate_filter([1, 2], [], radius=6) == []


@pytest.mark.parametrize("radius", range(9))
def test_probe_blocks_finds_hashes_whose_flips_pile_up_in_any_blocks(radius):
    rng = np.random.default_rng(100 + radius)
    for h in uniform(rng, 300).tolist():
        probes = probe_blocks(h, radius)
        counts = rng.multinomial(radius, rng.dirichlet(np.ones(4)))
        s = h
        for block, count in enumerate(counts.tolist()):
            for bit in rng.choice(16, size=min(count, 16), replace=False).tolist():
                s ^= 1 << (16 * (3 - block) + bit)
        assert hamming(h, s) <= radius
        assert any(v in p for v, p in zip(blocks(s), probes, strict=True))


# --- radius 8: every way 8 differing bits can fall over the 4 blocks ---------------------------


def compositions_of_8() -> list[tuple[int, ...]]:
    """Bits per block for every distance-8 pair: 165 splits of 8 into 4 parts."""
    return [c for c in itertools.product(range(9), repeat=4) if sum(c) == 8]


def flip_per_block(rng: np.random.Generator, h: int, counts: tuple[int, ...]) -> int:
    for block, count in enumerate(counts):
        for bit in rng.choice(16, size=count, replace=False).tolist():
            h ^= 1 << (16 * (3 - block) + bit)
    return h


def test_probe_blocks_at_radius_8_finds_every_split_of_8_bits_over_the_blocks():
    """(2, 2, 2, 2), (1, 2, 3, 2), (8, 0, 0, 0)...: the splits a 1-bit-per-block probe would miss."""
    rng = np.random.default_rng(8)
    misses = []
    for counts in compositions_of_8():
        for h in uniform(rng, 20).tolist():
            s = flip_per_block(rng, h, counts)
            assert hamming(h, s) == 8
            if not any(v in p for v, p in zip(blocks(s), probe_blocks(h, 8), strict=True)):
                misses.append(counts)
    assert misses == []


def test_pairs_within_at_radius_8_finds_every_split_of_8_bits_and_nothing_further():
    rng = np.random.default_rng(88)
    bases = uniform(rng, 330).tolist()
    near = [flip_per_block(rng, h, c) for h, c in zip(bases, compositions_of_8() * 2, strict=True)]
    far = [h ^ 0b1_1111_1111 << 20 for h in bases[:50]]  # 9 bits: just outside
    hashes = np.array(bases + near + far, dtype=np.uint64)
    expected = brute_pairs(hashes, 8)
    assert sum(d == 8 for *_, d in expected) >= 330
    assert as_set(pairs_within(hashes, 8)) == expected


def test_keys_cut_the_hash_into_21_21_and_22_bits_alike_signed_or_unsigned():
    assert index.keys(0x0123_4567_89AB_CDEF) == (
        0x0123_4567_89AB_CDEF >> 43,
        (0x4567_89AB_CDEF >> 22) & 0x1FFFFF,
        0x2BCDEF,
    )
    assert index.keys(2**64 - 1) == index.keys(-1) == (0x1FFFFF, 0x1FFFFF, 0x3FFFFF)
    assert index.keys(2**63) == index.keys(to_signed(2**63)) == (1 << 20, 0, 0)


@pytest.mark.parametrize("radius", range(9))
def test_key_slack_meets_the_pigeonhole_bound(radius):
    slack = index.key_slack(radius)
    assert len(slack) == 3 and sum(slack) + 3 > radius and max(slack) - min(slack) <= 1


def _flip_per_key(rng: np.random.Generator, h: int, counts: tuple[int, ...]) -> int:
    for (shift, bits), count in zip(index.KEY_LAYOUT, counts, strict=True):
        for bit in rng.choice(bits, size=count, replace=False).tolist():
            h ^= 1 << (shift + bit)
    return h


@pytest.mark.parametrize("radius", [3, 5, 8])
def test_probe_keys_find_every_split_of_the_radius_over_the_keys(radius):
    """(3, 3, 2), (2, 2, 2) + 2, (8, 0, 0)...: wherever the flips fall, one key is within its slack."""
    rng = np.random.default_rng(radius)
    splits = [c for c in itertools.product(range(radius + 1), repeat=3) if sum(c) == radius]
    for counts in splits:
        for h in uniform(rng, 10).tolist():
            s = _flip_per_key(rng, h, counts)
            assert hamming(h, s) == radius
            assert any(v in p for v, p in zip(index.keys(s), index.probe_keys(h, radius), strict=True)), counts


def test_probe_keys_at_radius_8_miss_a_hash_one_bit_past_every_slack():
    """Three bits off on each key (9 in all) is just beyond what the probe must find, and it is not found."""
    rng = np.random.default_rng(9)
    for h in uniform(rng, 20).tolist():
        s = _flip_per_key(rng, h, (3, 3, 3))
        assert not any(v in p for v, p in zip(index.keys(s), index.probe_keys(h, 8), strict=True))
    assert [len(m) for m in index.key_masks(8)] == [232, 232, 254]
