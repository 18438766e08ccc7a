"""Pure grouping logic: connected components of verified edges, then complete-linkage groups inside each."""

from collections.abc import Callable, Iterable, Sequence


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


def complete_linkage(nodes: Sequence[int], same_picture: Callable[[int, int], bool]) -> list[list[int]]:
    """Greedy in id order: a version joins the first group all of whose members it verified against.

    A~B and B~C alone never put A with C; the result depends only on the pairwise verdicts, so
    incremental matching and a full rebuild agree.
    """
    groups: list[list[int]] = []
    for node in sorted(nodes):
        for group in groups:
            if all(same_picture(node, member) for member in group):
                group.append(node)
                break
        else:
            groups.append([node])
    return groups
