"""Verification reasons are stored as codes with their numbers and worded in the reader's language; the
migration turns the English sentences stored before into codes, and back."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.utils import translation

from dedup.imaging.reasons import Reason
from dedup.models import ClusterMember, MatchEdge
from dedup.reasons import evidence_reason, reason_fields, reason_text
from tests.factories import ClusterMemberFactory, VersionFactory

PARAMS = {"coverage": 0.9312, "correlation": 0.4071, "local_difference": 0.6166, "text": "as it was"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
MIGRATION = importlib.import_module("dedup.migrations.0015_evidence_reason_codes")


@pytest.mark.parametrize("code", [c for c in Reason if c != Reason.RECORDED])
def test_every_reason_code_has_words_in_both_languages(code):
    with translation.override("en"):
        english = reason_text(code, PARAMS)
    with translation.override("zh-hant"):
        chinese = reason_text(code, PARAMS)
    assert english != code and "%(" not in english and not CHINESE.search(english)
    assert chinese != english and CHINESE.search(chinese) and "%(" not in chinese


def test_the_numbers_are_worded_with_two_decimals_in_either_language():
    with translation.override("en"):
        assert reason_text(Reason.COVERAGE_LOW, {"coverage": 0.9312}) == (
            "Each image shows parts the other lacks (coverage 0.93): a different shot or crop."
        )
    with translation.override("zh-hant"):
        assert "0.62" in reason_text(Reason.REGION_DIFFERS, {"local_difference": 0.6166})


def test_a_recorded_sentence_an_unknown_code_and_missing_numbers_still_read_plainly():
    with translation.override("zh-hant"):
        kept = "Same picture after alignment."
        assert reason_text(Reason.RECORDED, {"text": kept}) == kept
        assert reason_text("some_future_code", {}) == "some_future_code"
        worded = reason_text(Reason.NOT_ALIKE, {})
    assert CHINESE.search(worded) and "%(" not in worded and "相關度" not in worded
    assert evidence_reason({"hash_distance": 0}) == ""  # an exact copy has no reason


def test_the_api_fields_give_the_code_the_numbers_and_the_words():
    with translation.override("en"):
        fields = reason_fields({"reason": "small_part", "reason_params": {"coverage": 0.2}})
    assert fields == {
        "reason": "small_part",
        "reason_params": {"coverage": 0.2},
        "reason_text": "One image is only a small part of the other (coverage 0.20).",
    }


SENTENCES = [
    (
        "Each image shows parts the other lacks (coverage 0.93): a different shot or crop.",
        "coverage_low",
        {"coverage": 0.93},
    ),
    ("One image is only a small part of the other (coverage 0.21).", "small_part", {"coverage": 0.21}),
    ("The aligned images do not look alike (correlation 0.41).", "not_alike", {"correlation": 0.41}),
    (
        "A region differs after alignment (local difference 0.62): other content.",
        "region_differs",
        {"local_difference": 0.62},
    ),
    ("Same picture after alignment.", "same_after_alignment", {}),
    (
        "Same picture; one side carries something laid over the other (a caption, stamp or mark).",
        "same_with_overlay",
        {},
    ),
    ("Same picture except one region, which may be laid over it or may be other content.", "possible_overlay", {}),
    (
        "Read at detail size, the pages differ in one place or more (a field, a date, a note): other content.",
        "detail_differs",
        {},
    ),
    ("too_small", "too_small", {}),
    ("same_pixels_small", "same_pixels_small", {}),
    (NOTE := "A note a person once wrote here (coverage high).", "recorded", {"text": NOTE}),
]


def _migrate(direction):
    with connection.schema_editor(atomic=False) as schema_editor:
        direction(apps, schema_editor)


@pytest.mark.django_db
def test_the_migration_turns_each_stored_sentence_into_its_code_and_numbers_and_back():
    rows = []
    for n, (sentence, _code, _params) in enumerate(SENTENCES):
        a, b = VersionFactory(), VersionFactory()
        evidence = {"reason": sentence, "coverage": 0.5, "n": n}
        edge = MatchEdge.objects.create(version_a=a, version_b=b, is_duplicate=False, kind="", evidence=evidence)
        member = ClusterMemberFactory(version=a, evidence=evidence)
        rows.append((edge.pk, member.pk))
    exact = MatchEdge.objects.create(
        version_a=VersionFactory(), version_b=VersionFactory(), is_duplicate=True, kind="exact", evidence={"n": -1}
    )

    _migrate(MIGRATION.forwards)
    for (edge_id, member_id), (_sentence, code, params) in zip(rows, SENTENCES, strict=True):
        for evidence in (MatchEdge.objects.get(pk=edge_id).evidence, ClusterMember.objects.get(pk=member_id).evidence):
            assert (evidence["reason"], evidence["reason_params"], evidence["coverage"]) == (code, params, 0.5)
    assert MatchEdge.objects.get(pk=exact.pk).evidence == {"n": -1}
    _migrate(MIGRATION.forwards)  # run again, nothing moves
    assert MatchEdge.objects.get(pk=rows[0][0]).evidence["reason"] == "coverage_low"

    _migrate(MIGRATION.backwards)
    for (edge_id, member_id), (sentence, _code, _params) in zip(rows, SENTENCES, strict=True):
        for evidence in (MatchEdge.objects.get(pk=edge_id).evidence, ClusterMember.objects.get(pk=member_id).evidence):
            assert evidence["reason"] == sentence and "reason_params" not in evidence
