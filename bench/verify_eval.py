"""Measure candidate generation plus pair verification on the labelled set; prints precision/recall tables."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import multiprocessing
import pickle
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageOps

from bench.dataset import Record, load_dataset, make_dataset
from dedup.imaging.dihedral import DIHEDRAL, apply_dihedral
from dedup.imaging.verify import PRESETS, Rendition, Verdict, meets, verify_pair

RADII = (4, 5, 6, 7, 8, 9, 10)
RENDITION_SIDE = 256


@dataclass(frozen=True)
class Print:
    """What the bench needs from a fingerprint."""

    sha256: str
    rendition: Rendition
    phash_dihedral: tuple[int, ...]
    phash_trimmed: int | None


def _phash(img: Image.Image) -> int:
    return int(str(imagehash.phash(img)), 16)


def _own_fingerprint(path: str) -> Print:
    """Stand-in for dedup.imaging.fingerprint that follows the contract: oriented, greyscale, longest side 256."""
    data = Path(path).read_bytes()
    img = ImageOps.exif_transpose(Image.open(path))
    grey = img.convert("L")
    grey.thumbnail((RENDITION_SIDE, RENDITION_SIDE), Image.Resampling.LANCZOS)
    arr = np.asarray(grey)
    dihedral = tuple(_phash(Image.fromarray(apply_dihedral(arr, n))) for n in DIHEDRAL)
    from dedup.imaging.borders import trim_box  # the bench shares the verifier's notion of a uniform border

    top, bottom, left, right = trim_box(arr)
    trimmed = (
        None
        if (top, bottom, left, right) == (0, arr.shape[0], 0, arr.shape[1])
        else _phash(Image.fromarray(arr[top:bottom, left:right]))
    )
    return Print(hashlib.sha256(data).hexdigest(), Rendition.from_array(arr), dihedral, trimmed)


def _project_fingerprint(path: str) -> Print | None:
    try:
        from dedup.imaging.fingerprint import fingerprint_file
    except ImportError:
        return None
    fp = fingerprint_file(path)
    rendition = Rendition(fp.rendition, tuple(fp.rendition_size))
    return Print(fp.sha256, rendition, tuple(fp.phash_dihedral), fp.phash_trimmed)


def fingerprint_all(records: list[Record], cache: Path, use_project: bool) -> tuple[list[Print], str, float]:
    """Fingerprints, cached beside the data; returns (prints, which fingerprinter, ms per file)."""
    source = "dedup.imaging.fingerprint" if use_project and _project_fingerprint(records[0].path) else "bench helper"
    cache_file = cache / f"prints-{source.replace(' ', '_')}.pkl"
    if cache_file.exists():
        prints, ms = pickle.loads(cache_file.read_bytes())
        if len(prints) == len(records):
            return prints, source, ms
    start = time.perf_counter()
    make = _project_fingerprint if source == "dedup.imaging.fingerprint" else _own_fingerprint
    prints = [make(r.path) for r in records]
    ms = (time.perf_counter() - start) * 1000 / len(records)
    cache_file.write_bytes(pickle.dumps((prints, ms)))
    return prints, source, ms


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x)


def candidates(prints: list[Print], radius: int) -> dict[tuple[int, int], tuple[int, str]]:
    """Pairs (i<j) where a query variant of one is within radius of a stored hash of the other.

    Query variants: the 8 dihedral pHashes and the trimmed pHash; stored: identity and trimmed pHash,
    as the PostgreSQL multi-index will do. Value: (best distance, transform turning j into i).
    """
    n = len(prints)
    ident = np.array([p.phash_dihedral[0] for p in prints], dtype=np.uint64)
    trim = np.array(
        [p.phash_trimmed if p.phash_trimmed is not None else p.phash_dihedral[0] for p in prints], dtype=np.uint64
    )
    best_d = np.full((n, n), 99, dtype=np.int16)
    best_t = np.zeros((n, n), dtype=np.int8)
    for k, _ in enumerate(DIHEDRAL):
        q = np.array([p.phash_dihedral[k] for p in prints], dtype=np.uint64)
        for stored in (ident, trim):
            d = _popcount(q[:, None] ^ stored[None, :]).astype(np.int16)
            better = d < best_d
            best_d[better], best_t[better] = d[better], k
    d = _popcount(trim[:, None] ^ np.stack([ident, trim])[:, None, :]).min(axis=0).astype(np.int16)
    better = d < best_d
    best_d[better], best_t[better] = d[better], 0
    # query i's variant k matches stored j: j under transform k^-1 looks like i; symmetrise by taking min
    out: dict[tuple[int, int], tuple[int, str]] = {}
    sym = np.minimum(best_d, best_d.T)
    ii, jj = np.nonzero(np.triu(sym <= radius, 1))
    for i, j in zip(ii.tolist(), jj.tolist(), strict=False):
        out[(i, j)] = (int(sym[i, j]), _hint(int(best_t[i, j]), int(best_t[j, i]), best_d[i, j] <= best_d[j, i]))
    return out


def _hint(t_ij: int, t_ji: int, from_i: bool) -> str:
    """Transform turning j into i: dihedral k of i near j means j == k(i), so i == k^-1(j)."""
    inverse = {"rot90": "rot270", "rot270": "rot90"}
    if from_i:
        name = DIHEDRAL[t_ij]
        return inverse.get(name, name)
    return DIHEDRAL[t_ji]


class UnionFind:
    """Disjoint sets over integer ids."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _clusters(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    uf = UnionFind(n)
    for i, j in edges:
        uf.union(i, j)
    return [uf.find(i) for i in range(n)]


def pair_scores(records: list[Record], labels: list[int]) -> tuple[float, float, float]:
    """Pairwise precision, recall, F1 of predicted clusters against groups."""
    truth = Counter(r.group_id for r in records)
    pred = Counter(labels)
    both = Counter((r.group_id, lab) for r, lab in zip(records, labels, strict=False))

    def pairs(c: Counter) -> int:
        return sum(v * (v - 1) // 2 for v in c.values())

    tp, p_all, t_all = pairs(both), pairs(pred), pairs(truth)
    precision = tp / p_all if p_all else 1.0
    recall = tp / t_all if t_all else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall or 1)


def recall_by_transform(records: list[Record], labels: list[int]) -> dict[str, float]:
    original = {r.group_id: i for i, r in enumerate(records) if r.transform == "original"}
    hits: dict[str, list[bool]] = defaultdict(list)
    for i, r in enumerate(records):
        if r.transform != "original":
            hits[r.transform].append(labels[i] == labels[original[r.group_id]])
    return {t: float(np.mean(v)) for t, v in sorted(hits.items())}


def hard_negatives(records: list[Record], labels: list[int]) -> dict[str, tuple[int, int]]:
    """Per category: (pairs wrongly in one cluster, all cross-group pairs within families)."""
    by_family: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if r.family:
            by_family[r.family].append(i)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for members in by_family.values():
        cat = records[members[0]].family_kind or "?"
        for i, j in itertools.combinations(members, 2):
            if records[i].group_id != records[j].group_id:
                out[cat][1] += 1
                out[cat][0] += labels[i] == labels[j]
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


_PRINTS: list[Print] = []


def _verify_one(item: tuple[tuple[int, int], str]) -> tuple[tuple[int, int], Verdict]:
    (i, j), hint = item
    # the most permissive preset aligns as far as any preset would; `meets` re-decides per preset
    return (i, j), verify_pair(_PRINTS[i].rendition, _PRINTS[j].rendition, strictness="lenient", transforms=[hint])


def _init_worker(prints: list[Print]) -> None:
    _PRINTS[:] = prints


def verify_all(
    prints: list[Print], cands: dict[tuple[int, int], tuple[int, str]], workers: int
) -> tuple[dict[tuple[int, int], Verdict], float]:
    """Verify every candidate that is not an exact copy; returns verdicts and CPU ms per pair."""
    items = [(k, hint) for k, (_, hint) in cands.items() if prints[k[0]].sha256 != prints[k[1]].sha256]
    with multiprocessing.Pool(workers, initializer=_init_worker, initargs=(prints,)) as pool:
        verdicts = dict(pool.imap_unordered(_verify_one, items, chunksize=32))
    ms = float(np.mean([v.elapsed_ms for v in verdicts.values()])) if verdicts else 0.0
    return verdicts, ms


def _edges(prints, cands, verdicts, radius, strictness):  # noqa: ANN001, ANN202
    for (i, j), (dist, _) in cands.items():
        if prints[i].sha256 == prints[j].sha256:
            yield i, j  # exact copies are always joined
        elif dist <= radius and (i, j) in verdicts and meets(verdicts[(i, j)], strictness):
            yield i, j


def report(records, prints, cands, verdicts, radius, strictness, ms) -> None:  # noqa: ANN001
    labels = _clusters(len(records), _edges(prints, cands, verdicts, radius, strictness))
    p, r, f = pair_scores(records, labels)
    n_cand = sum(1 for d, _ in cands.values() if d <= radius)
    hn = hard_negatives(records, labels)
    joined, total = sum(v[0] for v in hn.values()), sum(v[1] for v in hn.values())
    print(f"\n== strictness={strictness} radius={radius}: candidates {n_cand}, verify {ms:.1f} ms/pair")
    print(f"   precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}")
    per_transform = recall_by_transform(records, labels).items()
    print("   recall per transform: " + ", ".join(f"{t} {v:.3f}" for t, v in per_transform))
    rate = joined / total if total else 0.0
    cats = ", ".join(f"{k} {a}/{b}" for k, (a, b) in hn.items())
    one_in = f"1 in {1 / rate:.0f}" if rate else "none"
    print(f"   hard negatives joined: {cats}; total {joined}/{total} = {rate:.4f} ({one_in})")


def candidate_recall(records: list[Record], cands: dict[tuple[int, int], tuple[int, str]]) -> None:
    truth = sum(v * (v - 1) // 2 for v in Counter(r.group_id for r in records).values())
    for radius in RADII:
        hit = sum(1 for (i, j), (d, _) in cands.items() if d <= radius and records[i].group_id == records[j].group_id)
        n = sum(1 for d, _ in cands.values() if d <= radius)
        print(f"radius {radius:2d}: {n:6d} candidate pairs, true pairs among them {hit}/{truth} = {hit / truth:.3f}")


def write_verdicts(path: Path, records: list[Record], verdicts: dict[tuple[int, int], Verdict]) -> None:
    """One line per pair: files, decision per preset, transform, evidence; sorted, so two runs diff cleanly."""
    lines = []
    for (i, j), v in sorted(verdicts.items()):
        names = f"{Path(records[i].path).name}\t{Path(records[j].path).name}"
        decisions = " ".join(f"{s}={int(meets(v, s))}" for s in PRESETS)
        evidence = f"{v.score} {v.coverage_a} {v.coverage_b} {v.local_max_diff}"
        lines.append(f"{names}\t{decisions}\t{v.transform}\t{evidence}\n")
    path.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", help="dataset directory (generated when it has no labels.json)")
    parser.add_argument("--radius", type=int, nargs="*", default=[6, 8, 10])
    parser.add_argument("--strictness", nargs="*", default=list(PRESETS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--own-fingerprint", action="store_true", help="use the bench helper, not dedup.imaging.fingerprint"
    )
    parser.add_argument("--verdicts-out", type=Path, help="write per-pair verdicts here (TSV), for diffing two runs")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "labels.json").exists():
        start = time.perf_counter()
        make_dataset(data)
        print(f"generated in {time.perf_counter() - start:.1f} s")
    records = load_dataset(data)
    prints, source, fp_ms = fingerprint_all(records, data, use_project=not args.own_fingerprint)
    print(f"{len(records)} files; fingerprints by {source}, {fp_ms:.1f} ms per file")
    cands = candidates(prints, max(RADII))
    candidate_recall(records, cands)
    wanted = {k: v for k, v in cands.items() if v[0] <= max(args.radius)}
    start = time.perf_counter()
    verdicts, ms = verify_all(prints, wanted, args.workers)
    print(f"verified {len(verdicts)} pairs in {time.perf_counter() - start:.0f} s wall ({args.workers} workers)")
    if args.verdicts_out:
        write_verdicts(args.verdicts_out, records, verdicts)
    for strictness in args.strictness:
        for radius in args.radius:
            report(records, prints, cands, verdicts, radius, strictness, ms)


if __name__ == "__main__":
    main()
