"""The peer-set scorer: expected groups from the peer's file names, clusters from verified pairs, pair counts."""

import pytest
from PIL import ImageOps

from bench import peer
from tests.images import encode, scene


@pytest.mark.parametrize(
    ("path", "image_format", "answer"),
    [
        ("mixed_images/ukbench00120_rotation.jpg", "JPEG", ("ukbench00120", "rotation")),
        ("base_images/ukbench00120.jpg", "JPEG", ("ukbench00120", "original")),
        ("formats_images/ukbench09380.webp", "WEBP", ("ukbench09380", "webp")),
        ("formats_images/ukbench09380.png", "JPEG", ("ukbench09380", "original")),
        ("formats_images/copyleft.tiff", "TIFF", ("copyleft", "original")),
        ("alpha_channel_image.png", "PNG", ("ukbench00120", "png_rgba")),
    ],
)
def test_a_file_is_the_picture_and_transform_its_name_tells(path, image_format, answer):
    assert peer.expected(path, image_format) == answer


def _entry(path: str, group: str, sha: str | None = None) -> peer.Entry:
    return peer.Entry(path, group, "original", sha or path)


def _outcome(kind: str = "", possible: bool = False) -> peer.Outcome:
    return peer.Outcome(kind, possible, "", 1.0, 1.0)


def test_pairs_joined_through_a_chain_count_as_found_and_a_possible_pair_as_not_found():
    entries = {e.path: e for e in [_entry("a", "A"), _entry("a2", "A"), _entry("a3", "A"), _entry("b", "B")]}
    outcomes = {frozenset(pair): _outcome() for pair in [("a", "a3"), ("a2", "a3"), ("a3", "b")]}
    outcomes[frozenset(("a", "a2"))] = _outcome("near")
    outcomes[frozenset(("a2", "b"))] = _outcome("rotated")
    outcomes[frozenset(("a", "b"))] = _outcome(possible=True)
    outcomes[frozenset(("a3", "b"))] = _outcome(possible=True)

    s = peer.score(entries, outcomes)

    assert s.true_pairs == {frozenset(p) for p in [("a", "a2"), ("a", "a3"), ("a2", "a3")]}
    assert s.found == {frozenset(p) for p in [("a", "a2"), ("a", "b"), ("a2", "b")]}
    assert s.correct == {frozenset(("a", "a2"))}
    assert s.wrong == {frozenset(("a", "b")), frozenset(("a2", "b"))}
    assert len(s.missed) == 2
    assert (s.precision, s.recall) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert s.possible == {frozenset(("a", "b")), frozenset(("a3", "b"))}


def test_byte_identical_files_are_scored_once_in_the_distinct_figures():
    entries = {e.path: e for e in [_entry("x/a", "A", "s1"), _entry("y/a", "A", "s1"), _entry("a_gray", "A", "s2")]}
    assert sorted(peer.distinct(entries)) == ["a_gray", "x/a"]
    assert peer.pair_kind(frozenset(("x/a", "y/a")), entries) == "exact"


def test_generated_peer_style_set_is_fingerprinted_compared_and_counted(tmp_path, capsys):
    picture, other = scene(seed=11), scene(seed=12)
    files = {
        "ukbench00001.jpg": encode(picture, quality=92),
        "nested/ukbench00001.jpg": encode(picture, quality=92),
        "ukbench00001_hflip.jpg": encode(ImageOps.mirror(picture), quality=92),
        "ukbench00001_gray.jpg": encode(ImageOps.grayscale(picture), quality=92),
        "ukbench00002.png": encode(other, "PNG"),
        "ukbench00003_corrupt.jpg": b"\xff\xd8\xff" + b"\x00" * 4000,
        "evaluation_files/ground_truth.pkl": b"not a picture",
    }
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)

    entries, sides, unreadable = peer.fingerprint_all(tmp_path, peer.candidate_files(tmp_path))
    outcomes = peer.compare_all(sides)
    every, unique = peer.score(entries, outcomes), peer.score(peer.distinct(entries), outcomes)

    assert list(unreadable) == ["ukbench00003_corrupt.jpg"]
    assert len(entries) == 5 and len(outcomes) == 10
    assert (len(every.true_pairs), len(unique.true_pairs)) == (6, 3)
    kinds = sorted(peer.pair_kind(p, entries) for p in every.true_pairs)
    assert kinds == ["exact", "gray ~ hflip"] + ["original ~ gray"] * 2 + ["original ~ hflip"] * 2
    assert every.found == every.true_pairs and not every.wrong

    peer.report(tmp_path, entries, unreadable, outcomes)
    printed = capsys.readouterr().out
    assert "recall 1.000 (6/6)" in printed and "true pairs 6, found 6, false pairs 0" in printed
    assert "recall 1.000 (3/3)" in printed
