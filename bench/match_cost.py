"""Verification's CPU as matching spends it, this tree against a baseline tree, side by side in one run.

    git archive main | tar -x -C /tmp/match-base
    .venv/bin/python -m bench.match_cost DIR --cache SIDES.pickle --base /tmp/match-base [--files 600]

Files are taken in a shuffled upload order; each new file is compared with `compare_pair`, as
`dedup.matching.edges` does, against its candidates among the files before it (the index's candidate pairs at
radius 8, the older file as side a), so whatever a version's comparisons share can be reused as a worker
would reuse it. Two processes, one per tree, take the same files in turn, chunk by chunk, never at the same
time; each counts its own CPU seconds, so other load on the machine moves the ratio little. Prints CPU per
file and per pair for both trees, the ratio, and how many verdicts (kind and evidence) differ between them.
`--cache` is the sides pickle of bench.pair_eval (fingerprinted files); it is made when missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import pickle
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 25  # files per turn


def _plan(dataset: str, cache: Path, files: int, seed: int) -> list[tuple[str, list[str]]]:
    sys.path.insert(0, str(ROOT))
    from bench.dataset import load_dataset
    from bench.pair_eval import _side
    from bench.pipeline_eval import candidate_pairs

    paths = [str(r.path) for r in load_dataset(dataset)]
    if not cache.exists():
        with multiprocessing.Pool(2) as pool:
            cache.write_bytes(pickle.dumps(dict(pool.map(_side, paths, chunksize=8))))
    sides = {k: v for k, v in pickle.loads(cache.read_bytes()).items() if v is not None}
    order = [p for p in paths if p in sides]
    random.Random(seed).shuffle(order)
    order = order[:files]
    rank = {p: i for i, p in enumerate(order)}
    older: dict[str, list[str]] = {p: [] for p in order}
    for a, b in candidate_pairs(order, sides, 8):
        first, second = sorted((a, b), key=rank.__getitem__)
        older[second].append(first)
    return [(p, sorted(older[p], key=rank.__getitem__)) for p in order]


def _serve(cache: str) -> None:
    """In a tree's own process: read chunks of the plan on stdin, answer CPU seconds and verdict digests."""
    sys.path.insert(0, str(Path.cwd()))
    from dedup.imaging.compare import compare_pair

    sides = pickle.loads(Path(cache).read_bytes())
    for line in sys.stdin:
        chunk = json.loads(line)
        digests, start = [], time.process_time()
        for new, olders in chunk:
            for old in olders:
                result = compare_pair(sides[old], sides[new], strictness="balanced")
                text = json.dumps([result.kind, result.evidence], sort_keys=True, default=str)
                digests.append(hashlib.sha256(text.encode()).hexdigest()[:16])
        print(json.dumps({"cpu": time.process_time() - start, "digests": digests}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return _serve(args.serve)
    plan = _plan(args.dataset, args.cache, args.files, args.seed)
    trees = {"base": args.base.resolve(), "head": ROOT}
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "match_cost.py"), "--serve", str(args.cache.resolve())],
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, tree in trees.items()
    }
    cpu = dict.fromkeys(trees, 0.0)
    digests: dict[str, list[str]] = {name: [] for name in trees}
    for i in range(0, len(plan), CHUNK):
        chunk = json.dumps(plan[i : i + CHUNK])
        for name in sorted(trees, key=lambda n: (n == "base") == (i // CHUNK % 2 == 0)):  # alternate who goes first
            procs[name].stdin.write(chunk + "\n")
            procs[name].stdin.flush()
            answer = json.loads(procs[name].stdout.readline())
            cpu[name] += answer["cpu"]
            digests[name] += answer["digests"]
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    pairs = sum(len(olders) for _new, olders in plan)
    differ = sum(x != y for x, y in zip(digests["base"], digests["head"], strict=True))
    for name in trees:
        print(
            f"{name}: {cpu[name]:.1f} s CPU for {len(plan)} files, {pairs} pairs: "
            f"{1000 * cpu[name] / len(plan):.1f} ms per file, {1000 * cpu[name] / max(pairs, 1):.1f} ms per pair"
        )
    print(f"head / base CPU: {cpu['head'] / cpu['base']:.3f}; verdicts that differ: {differ} of {pairs}")


if __name__ == "__main__":
    main()
