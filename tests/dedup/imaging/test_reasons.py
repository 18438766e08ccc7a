"""Verification gives its reason as a code with the numbers behind it, never as a sentence."""

import pytest

from dedup.imaging.reasons import Reason
from dedup.imaging.verify import PRESETS, _Comparison, _decide


@pytest.mark.parametrize(
    ("comparison", "ok", "reason", "params"),
    [
        (_Comparison(0.95, 0.93, 0.90, 0.1), False, Reason.COVERAGE_LOW, {"coverage": 0.93}),
        (_Comparison(0.95, 1.0, 0.2, 0.1), False, Reason.SMALL_PART, {"coverage": 0.2}),
        (_Comparison(0.5, 1.0, 1.0, 0.1), False, Reason.NOT_ALIKE, {"correlation": 0.5}),
        (_Comparison(0.95, 1.0, 1.0, 0.61), False, Reason.REGION_DIFFERS, {"local_difference": 0.61}),
        (_Comparison(0.95, 1.0, 1.0, 0.1), True, Reason.SAME_AFTER_ALIGNMENT, {}),
    ],
    ids=["crop or burst", "a detail of the other", "unlike", "other content in one place", "same"],
)
def test_each_decision_names_its_code_and_the_number_that_decided_it(comparison, ok, reason, params):
    assert _decide(comparison, PRESETS["balanced"]) == (ok, reason, params)
