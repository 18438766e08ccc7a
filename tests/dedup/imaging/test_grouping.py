"""Grouping never chains look-alikes together and does not depend on arrival order."""

from dedup.imaging.grouping import anchored_linkage, components


def test_groups_do_not_depend_on_the_order_versions_arrive():
    verified = {(1, 2), (1, 3), (2, 3), (3, 4)}
    same = lambda a, b: (min(a, b), max(a, b)) in verified  # noqa: E731
    assert anchored_linkage([4, 3, 2, 1], same) == anchored_linkage([1, 2, 3, 4], same) == [[3, 1, 2], [4]]


def test_components_join_over_edges():
    assert components([5], [(1, 2), (2, 3), (7, 8)]) == [[1, 2, 3], [5], [7, 8]]


def _verdicts(pairs):
    verified = {(min(a, b), max(a, b)) for a, b in pairs}
    return lambda a, b: (min(a, b), max(a, b)) in verified


def test_anchored_groups_keep_a_chain_apart():
    assert anchored_linkage([1, 2, 3], _verdicts({(1, 2), (2, 3)})) == [[2, 1], [3]]


def test_one_failed_pair_does_not_split_a_copy_from_its_picture():
    # 1 original, 2-4 plain copies, 5 a watermarked copy, 6 a rescan that fails only against 5
    pairs = {(a, b) for a in range(1, 7) for b in range(a + 1, 7)} - {(5, 6)}
    assert anchored_linkage(list(range(1, 7)), _verdicts(pairs)) == [[1, 2, 3, 4, 5, 6]]


def test_a_look_alike_verified_only_against_the_anchor_stays_out():
    pairs = {(1, 2), (1, 3), (2, 3), (1, 4)}
    assert anchored_linkage([1, 2, 3, 4], _verdicts(pairs)) == [[1, 2, 3], [4]]


def test_anchored_groups_do_not_depend_on_the_order_versions_arrive():
    same = _verdicts({(1, 2), (1, 3), (2, 3), (3, 4)})
    assert anchored_linkage([4, 3, 2, 1], same) == anchored_linkage([1, 2, 3, 4], same) == [[3, 1, 2], [4]]


def test_a_pair_that_never_lined_up_has_no_say_so_the_original_keeps_its_place():
    # An original O (1) and a 2° copy (2) made a cluster; 3° and 4° copies (3, 4) verify against the 2° copy
    # and each other, but could not be aligned with the original at all.
    pairs = {(1, 2), (2, 3), (2, 4), (3, 4)}
    unaligned = {(1, 3), (1, 4)}
    assert anchored_linkage([1, 2, 3, 4], _verdicts(pairs)) == [[1], [2, 3, 4]]  # every pair voting drops O
    undecided = lambda a, b: (min(a, b), max(a, b)) in unaligned  # noqa: E731
    assert anchored_linkage([1, 2, 3, 4], _verdicts(pairs), undecided) == [[2, 1, 3, 4]]


def test_a_look_alike_that_lined_up_and_differs_is_still_outvoted():
    pairs = {(1, 2), (1, 3), (2, 3), (1, 4)}
    nothing_unaligned = lambda a, b: False  # noqa: E731
    assert anchored_linkage([1, 2, 3, 4], _verdicts(pairs), nothing_unaligned) == [[1, 2, 3], [4]]
