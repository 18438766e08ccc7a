"""Pure grouping logic: connected components of verified edges, then anchored groups inside each."""

from collections.abc import Callable, Iterable, Sequence

Box = tuple[float, float, float, float]  # top, bottom, left, right as fractions of one picture
APART = 0.02  # boxes closer than this share a place


def components(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components (union-find); each sorted, listed by smallest member."""
    parent: dict[int, int] = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for n in parent:
        groups.setdefault(find(n), []).append(n)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def anchored_linkage(
    nodes: Sequence[int],
    same_picture: Callable[[int, int], bool],
    undecided: Callable[[int, int], bool] | None = None,
    explained: Callable[[int, int, int], bool] | None = None,
) -> list[list[int]]:
    """Groups around anchors: the version verified against most others leads, and a version joins it when
    it verified against the anchor and against at least half of the group's other members that had a say.

    A pair `undecided` (the two could not be aligned well enough to compare what they show, such as an
    original and a copy skewed beyond what alignment recovers) has no say: it neither joins nor parts the
    two, so a copy whose verified edge to the anchor still stands is not dropped when such copies arrive.
    A refusal `explained(node, member, anchor)` has no say either: the two differ only where each was found
    to differ from the anchor, in places apart (a stamp on one copy, a caption on another).

    Complete linkage loses a copy whenever one edit breaks one pair (a rescan against a watermarked copy
    of the same picture); here one failed pair is outvoted, while a chain A~B~C still does not glue A to C
    (C verified against none of the others). Each group is listed anchor first, then by id; the result
    depends only on the pairwise verdicts, so incremental matching and a full rebuild agree.
    """
    remaining = set(nodes)
    adjacent = {n: {m for m in remaining if m != n and same_picture(n, m)} for n in remaining}
    groups: list[list[int]] = []
    while remaining:
        anchor = min(remaining, key=lambda n: (-len(adjacent[n] & remaining), n))
        pool = adjacent[anchor] & remaining
        # the best connected candidates come first, so the members that vote on the rest are the firmest
        ranked = sorted(pool, key=lambda n: (-len(adjacent[n] & (pool | {anchor})), n))
        group = [anchor]
        for node in ranked:
            voters = [
                m
                for m in group[1:]
                if not (undecided and undecided(node, m)) and not (explained and explained(node, m, anchor))
            ]
            if 2 * len(adjacent[node].intersection(voters)) >= len(voters):
                group.append(node)
        groups.append([anchor, *sorted(group[1:])])
        remaining -= set(group)
    return sorted(groups, key=lambda g: min(g))


def places_apart(first: tuple[str, list[Box]] | None, second: tuple[str, list[Box]] | None) -> bool:
    """Two copies' differences from one anchor, as `differing_places` gives them on the anchor's side, lie
    in separate places of the same rendition, and at least one of them differs somewhere."""
    if first is None or second is None or first[0] != second[0] or not (first[1] or second[1]):
        return False
    return not any(overlapping(box, second[1]) for box in first[1])


def overlapping(box: Box, boxes: list[Box]) -> bool:
    """The box shares a place with one of the boxes (closer than APART)."""
    t1, b1, l1, r1 = box
    return any(t1 < b2 + APART and t2 < b1 + APART and l1 < r2 + APART and l2 < r1 + APART for t2, b2, l2, r2 in boxes)
