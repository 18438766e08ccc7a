"""Detection scored on a peer project's published test images and their expected answers (imagededup).

    git clone https://github.com/idealo/imagededup /tmp/imagededup   # or any copy of its git directory
    mkdir -p /tmp/peer && git --git-dir=/tmp/imagededup/.git archive HEAD tests/data | tar -x -C /tmp/peer
    nice -n 10 python -m bench.peer /tmp/peer/tests/data

Scored at imagededup 57a7e85. A snapshot lacking tests/data/formats_images/mpo_image.MPO (as the one fetched
to /work/.mirror/idealo+imagededup/repo does) needs `':(exclude)tests/data/formats_images/mpo_image.MPO'`
after `tests/data`. The pictures stay outside this repository: UKBench photographs and classic test images
the peer ships for its tests, not ours to redistribute.

Expected answers come from the peer's own naming, which its tests state: `evaluation_files/ground_truth.pkl`
maps `ukbenchN.jpg` to `ukbenchN_rotation.jpg`, `ukbenchN_hflip.jpg` and `ukbenchN_resize.jpg`, and
test_hashing expects `ukbench00120_resize.jpg` found for `ukbench00120.jpg`, nothing for `ukbench09268.jpg`,
and `ukbench09268_corrupt.jpg` refused. So every `ukbenchN[_transform].ext` file is one picture per N, the
suffix (or a format other than JPEG) naming the transform; every other file is its own picture, except
`alpha_channel_image.png`, which is ukbench00120 re-saved (looked at, see RENAMED); a file the
core refuses is left out and listed. Every pair of readable files is compared with `compare_pair`
("balanced"), clusters are the connected components of verified pairs (a `possible` outcome is not
verified), and pairs are scored against the expected groups, over all files and over one file per distinct
content (the peer repeats pictures byte for byte in nested folders to test directory walking).
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dedup.imaging.compare import Side, compare_pair, fingerprint_side  # noqa: E402
from dedup.imaging.errors import FingerprintError  # noqa: E402
from dedup.imaging.fingerprint import fingerprint_file  # noqa: E402

UKBENCH = re.compile(r"^(ukbench\d+)(?:_([A-Za-z0-9]+))?$")
NOT_PICTURES = {".pkl"}  # the peer's evaluator fixtures
# Named for what its test loads, not for what it shows: it is ukbench00120.jpg saved as RGBA PNG (alpha 255
# throughout, 0.7 levels mean difference per channel), so the same picture.
RENAMED = {"alpha_channel_image": ("ukbench00120", "png_rgba")}
Pair = frozenset[str]


@dataclass(frozen=True)
class Entry:
    """One readable file: its expected picture (group) and the transform its name tells."""

    path: str
    group: str
    transform: str
    sha256: str


@dataclass(frozen=True)
class Outcome:
    kind: str  # "" when not verified; a possible pair is not verified
    possible: bool
    reason: str
    ms: float  # wall clock
    cpu_ms: float  # this process's CPU time: steadier than the wall clock on a shared machine


@dataclass
class Score:
    true_pairs: set[Pair]
    found: set[Pair]
    possible: set[Pair] = field(default_factory=set)

    @property
    def correct(self) -> set[Pair]:
        return self.true_pairs & self.found

    @property
    def wrong(self) -> set[Pair]:
        return self.found - self.true_pairs

    @property
    def missed(self) -> set[Pair]:
        return self.true_pairs - self.found

    @property
    def precision(self) -> float:
        return len(self.correct) / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return len(self.correct) / len(self.true_pairs) if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def expected(path: str, image_format: str) -> tuple[str, str]:
    """The picture a file is, and its transform, by the peer's naming."""
    stem = Path(path).stem
    if stem in RENAMED:
        return RENAMED[stem]
    match = UKBENCH.match(stem)
    if not match:
        return stem, "original"
    group, suffix = match.groups()
    if suffix:
        return group, suffix.lower()
    return group, "original" if image_format == "JPEG" else image_format.lower()


def candidate_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() not in NOT_PICTURES and not p.name.startswith(".")
    )


def fingerprint_all(root: Path, paths: Iterable[str]) -> tuple[dict[str, Entry], dict[str, Side], dict[str, str]]:
    entries, sides, unreadable = {}, {}, {}
    for path in paths:
        try:
            fp = fingerprint_file(str(root / path), preview=False)  # as the worker fingerprints
        except FingerprintError as exc:
            unreadable[path] = f"refused: {exc.code.value}"
            continue
        except Exception as exc:  # noqa: BLE001 - a file the core fails on is listed too, not scored
            unreadable[path] = f"failed: {type(exc).__name__}: {exc}"
            continue
        group, transform = expected(path, fp.format)
        entries[path] = Entry(path, group, transform, fp.sha256)
        sides[path] = fingerprint_side(fp)
    return entries, sides, unreadable


def _reason(evidence: dict) -> str:
    """The stored reason code with its numbers (dedup.reasons words it for pages)."""
    params = " ".join(f"{k}={v}" for k, v in (evidence.get("reason_params") or {}).items())
    return f"{evidence.get('reason') or ''} {params}".strip()


def compare_all(sides: dict[str, Side]) -> dict[Pair, Outcome]:
    outcomes = {}
    for a, b in itertools.combinations(sorted(sides), 2):
        start, cpu = time.perf_counter(), time.process_time()
        result = compare_pair(sides[a], sides[b], strictness="balanced")
        ms, cpu_ms = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
        possible = bool(result.evidence.get("possible"))
        kind = "" if possible else result.kind
        reason = _reason(result.evidence)
        if not kind:
            reason += f" (hash distance {result.evidence['hash_distance']}, coverage {result.evidence.get('coverage')})"
        outcomes[frozenset((a, b))] = Outcome(kind, possible, reason.strip(), ms, cpu_ms)
    return outcomes


def components(paths: Iterable[str], edges: Iterable[Pair]) -> list[set[str]]:
    """Connected components of the verified pairs."""
    parent = {p: p for p in paths}

    def root(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for edge in edges:
        a, b = sorted(edge)
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = defaultdict(set)
    for p in parent:
        groups[root(p)].add(p)
    return list(groups.values())


def pairs_within(groups: Iterable[Iterable[str]]) -> set[Pair]:
    return {frozenset(pair) for members in groups for pair in itertools.combinations(sorted(members), 2)}


def score(entries: dict[str, Entry], outcomes: dict[Pair, Outcome]) -> Score:
    """Pairs of one expected group against pairs of one cluster, over the files in `entries`."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for entry in entries.values():
        by_group[entry.group].append(entry.path)
    considered = {pair: o for pair, o in outcomes.items() if pair <= entries.keys()}
    verified = [pair for pair, o in considered.items() if o.kind]
    return Score(
        true_pairs=pairs_within(by_group.values()),
        found=pairs_within(components(entries, verified)),
        possible={pair for pair, o in considered.items() if o.possible},
    )


def distinct(entries: dict[str, Entry]) -> dict[str, Entry]:
    """One file per distinct content (the first path in sorted order)."""
    kept: dict[str, Entry] = {}
    for path in sorted(entries):
        kept.setdefault(entries[path].sha256, entries[path])
    return {e.path: e for e in kept.values()}


def pair_kind(pair: Pair, entries: dict[str, Entry]) -> str:
    a, b = (entries[p] for p in sorted(pair))
    if a.sha256 == b.sha256:
        return "exact"
    first, second = sorted((a.transform, b.transform), key=lambda t: (t != "original", t))
    return f"{first} ~ {second}"


def _figures(label: str, s: Score) -> str:
    return (
        f"  {label:<16} precision {s.precision:.3f} ({len(s.correct)}/{len(s.found)})  "
        f"recall {s.recall:.3f} ({len(s.correct)}/{len(s.true_pairs)})  F1 {s.f1:.3f}  "
        f"true pairs {len(s.true_pairs)}, found {len(s.found)}, false pairs {len(s.wrong)}, "
        f"possible {len(s.possible & s.true_pairs)} true / {len(s.possible - s.true_pairs)} different"
    )


def _why_joined(pair: Pair, outcomes: dict[Pair, Outcome]) -> str:
    o = outcomes[pair]
    return f"verified directly as {o.kind}" if o.kind else f"joined through other members; directly: {o.reason}"


def report(root: Path, entries: dict[str, Entry], unreadable: dict[str, str], outcomes: dict[Pair, Outcome]) -> None:
    groups = {e.group for e in entries.values()}
    print(f"peer set {root}: {len(entries) + len(unreadable)} files, {len(entries)} read, {len(groups)} pictures")
    for path, why in sorted(unreadable.items()):
        print(f"  left out: {path} ({why[:100]})")
    every, unique = score(entries, outcomes), score(distinct(entries), outcomes)
    print("pairs against the expected groups (clusters = connected components of verified pairs):")
    print(_figures("all files", every))
    print(_figures("distinct content", unique))
    print("recall per kind of pair (all files):")
    per: dict[str, list[bool]] = defaultdict(list)
    for pair in every.true_pairs:
        per[pair_kind(pair, entries)].append(pair in every.found)
    for kind, hits in sorted(per.items()):
        print(f"  {kind:<24} {sum(hits):3d}/{len(hits):<3d} {sum(hits) / len(hits):.3f}")
    kept = distinct(entries)
    print(f"missed pairs ({len(unique.missed)} of distinct content; {len(every.missed)} over all files):")
    for pair in sorted(unique.missed, key=sorted):
        a, b = sorted(pair)
        outcome = outcomes[pair]
        verdict = "possible duplicate" if outcome.possible else "not duplicates"
        print(f"  {a} ~ {b} [{pair_kind(pair, kept)}]: {verdict}: {outcome.reason}")
    print(f"wrong pairs ({len(unique.wrong)} of distinct content; {len(every.wrong)} over all files):")
    for pair in sorted(unique.wrong, key=sorted):
        a, b = sorted(pair)
        print(f"  {a} ~ {b}: {_why_joined(pair, outcomes)}")
    _timings(entries, outcomes)


def _timings(entries: dict[str, Entry], outcomes: dict[Pair, Outcome]) -> None:
    different = {pair: o for pair, o in outcomes.items() if len({entries[p].sha256 for p in pair}) == 2}
    same_picture = [o for pair, o in different.items() if len({entries[p].group for p in pair}) == 1]
    other = [o for pair, o in different.items() if len({entries[p].group for p in pair}) == 2]
    for label, chosen in (
        ("in all", list(outcomes.values())),
        ("of one picture, different bytes", same_picture),
        ("of different pictures", other),
    ):
        if chosen:
            wall = statistics.median(o.ms for o in chosen)
            cpu = statistics.median(o.cpu_ms for o in chosen)
            print(f"median ms per pair, {len(chosen)} pairs {label}: {wall:.2f} wall clock, {cpu:.2f} CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="imagededup's tests/data, extracted (see the module docstring)")
    args = parser.parse_args()
    entries, sides, unreadable = fingerprint_all(args.path, candidate_files(args.path))
    report(args.path, entries, unreadable, compare_all(sides))


if __name__ == "__main__":
    main()
