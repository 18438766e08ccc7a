"""Candidate index for 64-bit perceptual hashes: signed storage, block probes, bulk Hamming joins.

Multi-index hashing: a hash is cut into 4 blocks of 16 bits. Give block k a slack s_k
and look up, per block, every value within s_k bits. A pair missed everywhere differs by
at least s_k + 1 bits in every block, so by at least sum(s_k) + 4 bits: any slacks with
sum(s_k) >= r - 3 find every pair within distance r (pigeonhole). Radius <= 3 needs exact
blocks only, 4..7 one bit of slack on r - 3 blocks, 8 five bits of slack, e.g. 2 + 1 + 1 + 1.
The database keeps one indexed column per block; `probe_blocks` gives the values to look
up, `candidate_filter` checks what came back. `pairs_within` runs the same idea in memory
over a whole collection.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from dedup.imaging.join_kernel import join_block

HASH_BITS = 64
BLOCK_BITS = 16
BLOCK_COUNT = 4
MAX_RADIUS = 8
# Slack per block column (b0..b3) for the database probe. Block 0 holds pHash's lowest
# frequencies (its first bit is the DC term), the least selective block on documents, so
# it stays exact; at radius 8 that costs 1 + 17 + 137 + 137 = 292 values per hash against
# 188 for 1 + 1 + 1 + 2, and fetches 79k rows instead of 257k per new version among 1M
# document-like hashes (35k instead of 23k on random ones; bench.index_scale).
_PROBE_SLACK = {8: (0, 1, 2, 2)}

MASK64 = (1 << HASH_BITS) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
# Candidate pairs materialised at once (about 40 MB of temporaries); larger chunks
# cross glibc's mmap threshold and pay fresh page faults on every chunk.
_CHUNK = 1 << 20
# A block group whose flat join would exceed this many pairs is split on its other bits.
_SPLIT_PAIRS = 1 << 20
# Narrower remainders make sub-blocks too small to separate anything.
_MIN_SPLIT_WIDTH = 24


class TruncatedGroupsWarning(UserWarning):
    """`pairs_within(max_group=...)` left out occurrences of over-shared hash values."""

    def __init__(self, dropped: dict[int, int]) -> None:
        self.dropped = dropped  # hash value -> occurrences left out
        total = sum(dropped.values())
        super().__init__(
            f"{len(dropped)} hash value(s) shared by more than max_group inputs; "
            f"{total} occurrence(s) left out of the pairs"
        )


# --- scalar helpers --------------------------------------------------------------------


def to_signed(h: int) -> int:
    """Store an unsigned 64-bit hash in a PostgreSQL bigint: same bits, read as int64."""
    if not 0 <= h <= MASK64:
        raise ValueError(f"not an unsigned 64-bit value: {h}")
    return h - (1 << HASH_BITS) if h > _INT64_MAX else h


def to_unsigned(h: int) -> int:
    """Read back a hash stored by `to_signed`."""
    if not _INT64_MIN <= h <= _INT64_MAX:
        raise ValueError(f"not a signed 64-bit value: {h}")
    return h & MASK64


def blocks(h: int) -> tuple[int, int, int, int]:
    """The four 16-bit blocks of an unsigned hash, most significant first."""
    if not 0 <= h <= MASK64:
        raise ValueError(f"not an unsigned 64-bit value: {h}")
    return (h >> 48, (h >> 32) & 0xFFFF, (h >> 16) & 0xFFFF, h & 0xFFFF)


def probe_blocks(h: int, radius: int) -> tuple[frozenset[int], ...]:
    """Block values to look up, per block column, to find every stored hash within `radius`.

    Guarantee: if hamming(h, s) <= radius then blocks(s)[k] is in the k-th set for some k.
    Block k takes every value within `probe_slack(radius)[k]` bits of its own (1, 17 or 137
    values for slack 0, 1, 2). A hash missed everywhere differs by slack + 1 bits or more in
    every block, 4 + sum(slack) > radius in all.
    """
    return tuple(
        frozenset(v ^ m for m in _flip_masks(BLOCK_BITS, slack))
        for v, slack in zip(blocks(h), probe_slack(radius), strict=True)
    )


def probe_slack(radius: int) -> tuple[int, ...]:
    """Bits each block column may differ by in `probe_blocks`; they sum to radius - 3 or more.

    Up to radius 7 the last r - 3 blocks take one bit and block 0 stays exact.
    """
    _check_radius(radius)
    if radius in _PROBE_SLACK:
        return _PROBE_SLACK[radius]
    widened = max(0, radius - (BLOCK_COUNT - 1))
    return tuple(int(k >= BLOCK_COUNT - widened) for k in range(BLOCK_COUNT))


def _flip_masks(bits: int, slack: int) -> list[int]:
    """0 and every mask of at most `slack` set bits within `bits` bits, fewest bits first."""
    return [sum(1 << b for b in chosen) for n in range(slack + 1) for chosen in itertools.combinations(range(bits), n)]


# --- the database probe: three wide keys --------------------------------------------------------------------

# The shared index in the database cuts a hash into three keys instead (shift, bits): 21, 21 and 22 bits.
# At a million versions (22 million entries) a 16-bit block value is shared by about 340 entries, so the
# four-block probe visits a million or more rows per new version; a 21-bit key is shared by about 10, and
# two bits of slack on each key (232-254 values) meet the bound (3 + 2 + 2 + 2 > 8), about 120k rows.
KEY_LAYOUT = ((43, 21), (22, 21), (0, 22))


def keys(h: int) -> tuple[int, int, int]:
    """The three index keys of a hash, signed or unsigned (the same for both forms)."""
    return tuple((h >> shift) & ((1 << bits) - 1) for shift, bits in KEY_LAYOUT)


def key_slack(radius: int) -> tuple[int, ...]:
    """Bits each key may differ by in the probe: a hash missed on every key differs by slack + 1 bits or more
    on each, 3 + sum(slack) > radius in all. The slack is spread evenly, the widest key first."""
    _check_radius(radius)
    total = max(0, radius - len(KEY_LAYOUT) + 1)
    order = sorted(range(len(KEY_LAYOUT)), key=lambda k: -KEY_LAYOUT[k][1])
    slack = [0] * len(KEY_LAYOUT)
    for n in range(total):
        slack[order[n % len(order)]] += 1
    return tuple(slack)


@functools.cache
def key_masks(radius: int) -> tuple[tuple[int, ...], ...]:
    """Per key, the masks XORed into a hash's key to give the key values to look up (0 first)."""
    return tuple(tuple(_flip_masks(bits, s)) for (_shift, bits), s in zip(KEY_LAYOUT, key_slack(radius), strict=True))


def probe_keys(h: int, radius: int) -> tuple[frozenset[int], ...]:
    """Key values to look up, per key, to find every stored hash within `radius` of `h`.

    Guarantee: if hamming(h, s) <= radius then keys(s)[k] is in the k-th set for some k.
    """
    return tuple(frozenset(v ^ m for m in masks) for v, masks in zip(keys(h), key_masks(radius), strict=True))


def hamming(a: int, b: int) -> int:
    """Differing bits of two 64-bit hashes; signed and unsigned forms may be mixed."""
    return ((a ^ b) & MASK64).bit_count()


def candidate_filter(
    query_hashes: Iterable[int], rows: Iterable[tuple[int, int]], radius: int
) -> list[tuple[int, int, int]]:
    """Keep probed rows within `radius` of any query hash.

    `rows` are (version_id, stored_hash) with the hash signed or unsigned. Returns
    (version_id, best_distance, variant_index), one per version, nearest first (then by
    id); variant_index is the position in `query_hashes` of the closest query hash, the
    lowest one on ties, so the identity variant wins when it is as close as a rotation.
    """
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    queries = np.array([q & MASK64 for q in query_hashes], dtype=np.uint64)
    fetched = list(rows)
    if not fetched or not queries.size:
        return []
    ids = np.array([row[0] for row in fetched], dtype=np.int64)
    stored = np.array([row[1] & MASK64 for row in fetched], dtype=np.uint64)
    dist = np.bitwise_count(stored[:, None] ^ queries[None, :])
    variant = dist.argmin(axis=1)
    best = dist[np.arange(len(fetched)), variant]
    keep = np.flatnonzero(best <= radius)
    if not keep.size:
        return []
    order = keep[np.lexsort((variant[keep], best[keep], ids[keep]))]
    first = order[np.r_[True, ids[order][1:] != ids[order][:-1]]]
    found = [(int(ids[i]), int(best[i]), int(variant[i])) for i in first]
    return sorted(found, key=lambda row: (row[1], row[0]))


# --- bulk join ---------------------------------------------------------------------------


def pairs_within(hashes: np.ndarray, radius: int, *, max_group: int | None = None) -> np.ndarray:
    """Every pair of `hashes` (uint64, or int64 as stored) within Hamming `radius` (0..8).

    Returns an (M, 3) array of rows (i, j, distance), i < j, each pair once, in no
    particular order; int32 unless there are 2**31 hashes or more. Cost follows the
    candidate pairs (pairs sharing a block, or a block up to one bit apart for radius
    >= 4, two bits on one block at 8), never all N**2 pairs; groups too large to join flat are split on their other
    bits, and memory stays bounded by chunking. Identical hashes are joined once and then
    expanded, so k copies of one hash (blank pages) cost what their k*(k-1)/2 rows cost.
    `max_group` caps that: only the first `max_group` occurrences (by index) of a hash
    value take part, and a `TruncatedGroupsWarning` lists what was left out.
    """
    _check_radius(radius)
    values = _as_uint64(hashes)
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    members = np.argsort(inverse, kind="stable")
    if max_group is not None:
        members, counts = _truncate(uniq, members, counts, max_group)
    starts = np.cumsum(counts) - counts
    parts = list(_identical_pairs(members, starts, counts))
    if radius and len(uniq) > 1:
        a, b, dist = _self_join(uniq, HASH_BITS, radius)
        parts += _member_pairs(a, b, dist, members, starts, counts)
    return _assemble(parts, len(values))


def _check_radius(radius: int) -> None:
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius must be 0..{MAX_RADIUS}, got {radius}")


def _as_uint64(hashes: np.ndarray) -> np.ndarray:
    values = np.asarray(hashes)
    if values.ndim != 1:
        raise ValueError("hashes must be a 1-D array")
    if values.dtype == np.int64:
        return values.view(np.uint64)
    if values.dtype != np.uint64 and values.size:
        raise TypeError(f"hashes must be uint64 or int64, got {values.dtype}")
    return values.astype(np.uint64, copy=False)


def _truncate(
    uniq: np.ndarray, members: np.ndarray, counts: np.ndarray, max_group: int
) -> tuple[np.ndarray, np.ndarray]:
    over = np.flatnonzero(counts > max_group)
    if not over.size:
        return members, counts
    rank = np.arange(len(members)) - np.repeat(np.cumsum(counts) - counts, counts)
    dropped = {int(uniq[g]): int(counts[g] - max_group) for g in over}
    warnings.warn(TruncatedGroupsWarning(dropped), stacklevel=3)
    return members[rank < max_group], np.minimum(counts, max_group)


def _bit_order(values: np.ndarray, width: int) -> list[int] | None:
    """A bit order (most significant first) that gives each block a fair share of information.

    Distances do not change under a permutation. Collections whose hashes share bits
    (document pages keep their low frequencies) otherwise pile into a few values of one
    block, and those groups dominate the join. A block's share of candidate pairs is about
    the product over its bits of the chance two hashes agree there; spreading the
    information evenly minimises the sum (Jensen), so bits go greedily, most informative
    first, to the open block holding the least. None when the plain order is near as good.
    """
    sample = values[:: max(1, len(values) // 65_536)].astype("<u8")
    ones = np.unpackbits(sample.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")[:, :width].mean(0)
    info = -np.log2(np.maximum(ones**2 + (1 - ones) ** 2, 1e-12))  # index = bit, LSB first
    layout = _Level(width, 0).layout
    plain = [list(range(shift + bits - 1, shift - 1, -1)) for shift, bits in layout]
    spread: list[list[int]] = [[] for _ in layout]
    for bit in np.argsort(-info, kind="stable").tolist():
        k = min((k for k, (_, bits) in enumerate(layout) if len(spread[k]) < bits), key=lambda k: info[spread[k]].sum())
        spread[k].append(bit)
    cost = lambda blocks: sum(2.0 ** -info[bits].sum() for bits in blocks)  # noqa: E731
    return None if cost(plain) <= 1.25 * cost(spread) else [bit for bits in spread for bit in bits]


def _permute(values: np.ndarray, order: list[int], width: int) -> np.ndarray:
    """Move bit order[i] to bit width-1-i; bits moving by the same step move together."""
    moves: dict[int, int] = {}
    for i, bit in enumerate(order):
        step = width - 1 - i - bit
        moves[step] = moves.get(step, 0) | 1 << bit
    out = np.zeros_like(values)
    for step, mask in moves.items():
        part = values & np.uint64(mask)
        out |= part << np.uint64(step) if step >= 0 else part >> np.uint64(-step)
    return out


def _identical_pairs(members, starts, counts) -> Iterator[tuple[np.ndarray, ...]]:
    pos = np.arange(len(members))
    n = np.repeat(starts + counts, counts) - pos - 1
    for left, right in _expand(pos, pos + 1, n):
        yield members[left], members[right], np.zeros(len(left), np.uint8)


def _member_pairs(a, b, dist, members, starts, counts) -> list[tuple[np.ndarray, ...]]:
    """Expand pairs of distinct hash values into pairs of the inputs holding them."""
    if counts.max(initial=0) == 1:
        return [(members[a], members[b], dist)]
    parts = []
    for pair, pos_a in _expand(np.arange(len(a)), starts[a], counts[a]):
        rows = np.arange(len(pair))
        for row, pos_b in _expand(rows, starts[b[pair]], counts[b[pair]]):
            parts.append((members[pos_a[row]], members[pos_b], dist[pair[row]]))
    return parts


def _assemble(parts: list[tuple[np.ndarray, ...]], n_hashes: int) -> np.ndarray:
    dtype = np.int32 if n_hashes < 2**31 else np.int64
    out = np.empty((sum(len(p[0]) for p in parts), 3), dtype=dtype)
    at = 0
    for i, j, dist in parts:
        end = at + len(i)
        out[at:end, 0] = np.minimum(i, j)
        out[at:end, 1] = np.maximum(i, j)
        out[at:end, 2] = dist
        at = end
    return out


def _expand(rows, right_start, n) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (row, right_start[row] + k) for k < n[row], at most about _CHUNK at a time."""
    keep = n > 0
    rows, right_start, n = rows[keep], right_start[keep], n[keep]
    cum = np.cumsum(n)
    small = not len(n) or max(rows.max(), (right_start + n).max()) + _CHUNK < 2**31
    dtype = np.int32 if small else np.int64
    lo = 0
    while lo < len(n):
        base = int(cum[lo - 1]) if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + _CHUNK, side="right")))
        count = n[lo:hi]
        offset = right_start[lo:hi] - (cum[lo:hi] - count - base)
        total = int(cum[hi - 1]) - base
        yield (
            np.repeat(rows[lo:hi].astype(dtype), count),
            np.repeat(offset.astype(dtype), count) + np.arange(total, dtype=dtype),
        )
        lo = hi


@dataclass(frozen=True)
class _Level:
    """Hashes reduced to their lowest `width` bits, cut into 4 blocks for one join."""

    width: int
    radius: int

    @property
    def layout(self) -> list[tuple[int, int]]:
        """(shift, bits) per block, most significant first."""
        sizes = [self.width // BLOCK_COUNT + (k < self.width % BLOCK_COUNT) for k in range(BLOCK_COUNT)]
        shifts = [self.width - sum(sizes[: k + 1]) for k in range(BLOCK_COUNT)]
        return list(zip(shifts, sizes, strict=True))

    @property
    def slack(self) -> list[int]:
        """Bits a block may differ by and still catch a pair: slack + 1 over 4 blocks must sum past radius.

        Spread evenly, first blocks first (radius 8: 2, 1, 1, 1); the bit order is balanced
        in memory, so no block is worth keeping exact.
        """
        base, extra = divmod(max(0, self.radius - (BLOCK_COUNT - 1)), BLOCK_COUNT)
        return [base + (k < extra) for k in range(BLOCK_COUNT)]

    def masks(self, k: int) -> list[int]:
        """XOR between the block values joined: equal, and every pattern of up to slack bits."""
        return _flip_masks(self.layout[k][1], self.slack[k])

    def accept(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions of xors within radius whose first catching block is k, and distances."""
        dist = np.bitwise_count(x)
        pos = np.flatnonzero(dist <= self.radius)
        near = x[pos]
        first = np.ones(len(pos), dtype=bool)
        for (shift, bits), slack in zip(self.layout[:k], self.slack[:k], strict=True):
            block = (near >> np.uint64(shift)) & np.uint64((1 << bits) - 1)
            first &= np.bitwise_count(block) > slack
        pos = pos[first]
        return pos, dist[pos]


class _Table:
    """Values sorted by one block, with each block value's start and count (a dense index)."""

    def __init__(self, values: np.ndarray, shift: int, bits: int) -> None:
        key = ((values >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.uint16)
        self.order = np.argsort(key, kind="stable")
        self.values = values[self.order]
        self.counts = np.bincount(key, minlength=1 << bits)
        self.starts = np.cumsum(self.counts) - self.counts


def _self_join(values: np.ndarray, width: int, radius: int):
    """Pairs of distinct `values` within `radius`: (a, b, distance), each pair once."""
    level = _Level(width, radius)
    order = _bit_order(values, width)
    if order:
        values = _permute(values, order, width)
    found = []
    for k, (shift, bits) in enumerate(level.layout):
        table = _Table(values, shift, bits)
        found += _group_join(level, k, table, table)
    return _concat(found)


def _cross_join(left: np.ndarray, right: np.ndarray, width: int, radius: int):
    """Pairs (a in left, b in right) within `radius`: (a, b, distance), each pair once."""
    level = _Level(width, radius)
    order = _bit_order(np.concatenate([left, right]), width)
    if order:
        left, right = _permute(left, order, width), _permute(right, order, width)
    found = []
    for k, (shift, bits) in enumerate(level.layout):
        found += _group_join(level, k, _Table(left, shift, bits), _Table(right, shift, bits))
    return _concat(found)


def _group_join(level: _Level, k: int, lt: _Table, rt: _Table) -> list:
    """Join left rows with block value v to right rows with block value v ^ mask, for every mask of block k.

    `lt is rt` is a self join (`join_block` says how each pair comes once). Group pairs too
    large to join flat are split by joining on the remaining bits (`_split`), unless too
    few bits remain for that to separate anything.
    """
    shift, bits = level.layout[k]
    masks = np.array(level.masks(k), dtype=np.int64)
    layout = np.array([(s, b, slack) for (s, b), slack in zip(level.layout, level.slack, strict=True)], np.int64)
    split_pairs = _SPLIT_PAIRS if level.width - bits >= _MIN_SPLIT_WIDTH else 0
    left, right, dist, big, big_mask = join_block(
        lt.values, lt.starts, lt.counts, rt.values, rt.starts, rt.counts,
        masks, lt is rt, split_pairs, level.radius, layout, k,
    )  # fmt: skip
    found = [(lt.order[left], rt.order[right], dist)]
    found += [_split(level, k, lt, rt, int(masks[m]), int(v)) for v, m in zip(big, big_mask, strict=True)]
    return found


def _split(level: _Level, k: int, lt: _Table, rt: _Table, mask: int, v: int):
    """Join one large pair of groups on the bits outside block k."""
    shift, bits = level.layout[k]
    lo, ro = int(lt.starts[v]), int(rt.starts[v ^ mask])
    left = _drop_block(lt.values[lo : lo + lt.counts[v]], shift, bits)
    if lt is rt and not mask:
        a, b, _ = _self_join(left, level.width - bits, level.radius)
    else:
        right = _drop_block(rt.values[ro : ro + rt.counts[v ^ mask]], shift, bits)
        sub_radius = level.radius - mask.bit_count()
        a, b, _ = _cross_join(left, right, level.width - bits, sub_radius)
    return _keep(level, k, lt, rt, lo + a, ro + b)


def _keep(level: _Level, k: int, lt: _Table, rt: _Table, left, right):
    pos, dist = level.accept(lt.values[left] ^ rt.values[right], k)
    return lt.order[left[pos]], rt.order[right[pos]], dist


def _drop_block(values: np.ndarray, shift: int, bits: int) -> np.ndarray:
    low = values & np.uint64((1 << shift) - 1)
    if shift + bits >= HASH_BITS:
        return low
    return ((values >> np.uint64(shift + bits)) << np.uint64(shift)) | low


def _concat(found: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint8)
    a, b, dist = zip(*found, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(dist)
