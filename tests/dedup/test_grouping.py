"""Grouping never chains look-alikes together and does not depend on arrival order."""

from dedup.grouping import complete_linkage, components


def test_a_chain_does_not_glue_its_ends_together():
    verified = {(1, 2), (2, 3)}
    groups = complete_linkage([1, 2, 3], lambda a, b: (min(a, b), max(a, b)) in verified)
    assert groups == [[1, 2], [3]]


def test_groups_do_not_depend_on_the_order_versions_arrive():
    verified = {(1, 2), (1, 3), (2, 3), (3, 4)}
    same = lambda a, b: (min(a, b), max(a, b)) in verified  # noqa: E731
    assert complete_linkage([4, 3, 2, 1], same) == complete_linkage([1, 2, 3, 4], same) == [[1, 2, 3], [4]]


def test_components_join_over_edges():
    assert components([5], [(1, 2), (2, 3), (7, 8)]) == [[1, 2, 3], [5], [7, 8]]
