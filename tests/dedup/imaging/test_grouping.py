"""Grouping never chains look-alikes together and does not depend on arrival order."""

from dedup.imaging.grouping import anchored_linkage, components, places_apart


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


def test_two_copies_refusing_each_other_for_their_own_edits_both_stay_with_the_original():
    # Original 1; copy 2 carries a stamp, copy 3 a caption: each verified against 1 with its own region, and
    # 2 and 3 refuse each other for those two places.
    same = _verdicts({(1, 2), (1, 3)})
    places = {2: ("frame", [(0.0, 0.2, 0.0, 0.3)]), 3: ("frame", [(0.8, 1.0, 0.5, 1.0)])}

    def explained(node, member, anchor):
        return anchor == 1 and places_apart(places[node], places[member])

    assert anchored_linkage([1, 2, 3], same) == [[1, 2], [3]]
    assert anchored_linkage([1, 2, 3], same, None, explained) == [[1, 2, 3]]


def test_copies_that_differ_from_the_anchor_in_one_place_are_still_outvoted():
    # Forms 2 and 3 each differ from form 1 in the same field: they may hold other values there.
    same = _verdicts({(1, 2), (1, 3)})
    places = {2: ("frame", [(0.40, 0.45, 0.2, 0.6)]), 3: ("frame", [(0.41, 0.46, 0.25, 0.5)])}

    def explained(node, member, anchor):
        return places_apart(places[node], places[member])

    assert anchored_linkage([1, 2, 3], same, None, explained) == [[1, 2], [3]]


def test_places_apart_needs_one_rendition_one_known_place_and_a_gap():
    stamp, caption = ("frame", [(0.0, 0.2, 0.0, 0.3)]), ("frame", [(0.8, 1.0, 0.5, 1.0)])
    assert places_apart(stamp, caption)
    assert places_apart(stamp, ("frame", []))  # one copy the same as the anchor, the other stamped
    assert not places_apart(("frame", []), ("frame", []))  # nothing tells why the two refused each other
    assert not places_apart(stamp, ("content", caption[1]))  # boxes of different renditions
    assert not places_apart(stamp, None)
    assert not places_apart(stamp, ("frame", [(0.21, 0.5, 0.1, 0.2)]))  # closer than APART
