"""Compiled inner loop of the in-memory Hamming join (`index.pairs_within`): one block, one mask.

numba compiles it on first use and caches the machine code beside this module
(`cache=True`), so only the first process after an install or upgrade pays the compile.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core.extending import intrinsic


@intrinsic
def _popcount(typingctx, x):
    """The CPU's population count (LLVM ctpop) on a uint64."""

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, boundscheck=False)
def join_block(lvalues, lstarts, lcounts, rvalues, rstarts, rcounts, masks, same, split_pairs, radius, layout, k):
    """Pairs of one block's joins within `radius`, and the group pairs too large to join flat.

    Both tables hold values sorted by block k, with each block value's start and count.
    For each mask, the left group with block value v meets the right group with value
    v ^ mask. A self join (`same`) pairs a group with its own later rows for mask 0, and
    otherwise only from the side whose block value has the mask's lowest bit clear, so
    each pair comes once. A pair also caught by an earlier block (at most its slack bits
    apart there) is left to that block. A group pair whose flat join would exceed
    `split_pairs` pairs (when positive) is not joined but returned, as (v, mask index),
    for the caller to split on the other bits.

    Returns (left positions, right positions, distances, split v, split mask index).
    Groups are walked outermost, so a left group stays in cache across every mask.
    """
    out_i, out_j, out_d = np.empty(1024, np.int64), np.empty(1024, np.int64), np.empty(1024, np.uint8)
    split_v, split_m = np.empty(16, np.int64), np.empty(16, np.int64)
    found = splits = 0
    rad = np.uint64(radius)
    for v in range(lcounts.shape[0]):
        cl = lcounts[v]
        if cl == 0:
            continue
        ls = lstarts[v]
        for mi in range(masks.shape[0]):
            m = masks[mi]
            if same and m != 0 and (v & (m & -m)) != 0:
                continue
            w = v ^ m
            cr, rs = rcounts[w], rstarts[w]
            flat = cl * (cl - 1) // 2 if same and m == 0 else cl * cr
            if flat == 0:
                continue
            if 0 < split_pairs < flat:
                if splits == split_v.shape[0]:
                    split_v, split_m = _grow(split_v, 2 * splits), _grow(split_m, 2 * splits)
                split_v[splits], split_m[splits] = v, mi
                splits += 1
                continue
            for i in range(ls, ls + cl):
                left = lvalues[i]
                first = i + 1 if same and m == 0 else rs
                if not _any_within(left, rvalues, first, rs + cr, rad):
                    continue
                for j in range(first, rs + cr):
                    x = left ^ rvalues[j]
                    d = _popcount(x)
                    if d > rad or _caught_earlier(x, layout, k):
                        continue
                    if found == out_i.shape[0]:
                        out_i, out_j, out_d = _grow(out_i, 2 * found), _grow(out_j, 2 * found), _grow(out_d, 2 * found)
                    out_i[found], out_j[found], out_d[found] = i, j, d
                    found += 1
    return out_i[:found], out_j[:found], out_d[:found], split_v[:splits], split_m[:splits]


@njit(cache=True, inline="always")
def _any_within(left, values, lo, hi, rad):
    """Whether any of values[lo:hi] is within `rad` of `left`: a branch-free count, so it vectorises."""
    near = 0
    for j in range(lo, hi):
        near += _popcount(left ^ values[j]) <= rad
    return near > 0


@njit(cache=True, inline="always")
def _caught_earlier(x, layout, k):
    """Whether an earlier block is within its slack; `layout` rows are (shift, bits, slack)."""
    for b in range(k):
        block = (x >> np.uint64(layout[b, 0])) & np.uint64((1 << layout[b, 1]) - 1)
        if _popcount(block) <= np.uint64(layout[b, 2]):
            return True
    return False


@njit(cache=True)
def _grow(a, cap):
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out
