"""Verification reasons stored as codes with their numbers; the English sentences stored before become codes."""

import re

from django.db import migrations

# Frozen here (migrations never import app code): the sentences verification used to store, with the code
# each one is now (dedup.imaging.reasons.Reason). A number was written with two decimals.
_SENTENCES = (
    ("coverage_low", "Each image shows parts the other lacks (coverage %(coverage)s): a different shot or crop."),
    ("small_part", "One image is only a small part of the other (coverage %(coverage)s)."),
    ("not_alike", "The aligned images do not look alike (correlation %(correlation)s)."),
    (
        "region_differs",
        "A region differs after alignment (local difference %(local_difference)s): other content.",
    ),
    ("same_after_alignment", "Same picture after alignment."),
    (
        "same_with_overlay",
        "Same picture; one side carries something laid over the other (a caption, stamp or mark).",
    ),
    # The first reading of overlays excused one region at an edge: the same decision, an overlay one side carries.
    ("same_with_overlay", "Same picture; one region at an edge differs (a caption, credit or watermark)."),
    ("possible_overlay", "Same picture except one region, which may be laid over it or may be other content."),
    (
        "detail_differs",
        "Read at detail size, the pages differ in one place or more (a field, a date, a note): other content.",
    ),
    ("too_small", "An image is too small or too thin to compare; only identical files or pixels count."),
)
# Stored as codes already, before the other reasons were.
_CODES = ("too_small", "same_pixels_small")
BATCH = 2000


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>-?[0-9]+(?:\\.[0-9]+)?)", re.escape(template)))


_PATTERNS = tuple((code, _pattern(template)) for code, template in _SENTENCES)


def sentence_to_code(text: str) -> tuple[str, dict]:
    if text in _CODES:
        return text, {}
    for code, pattern in _PATTERNS:
        if match := pattern.fullmatch(text):
            return code, {name: float(value) for name, value in match.groupdict().items()}
    return "recorded", {"text": text}  # kept word for word, never lost


def code_to_sentence(code: str, params: dict) -> str:
    if code == "recorded":
        return params.get("text", "")
    if code in _CODES and not params:
        return code
    for known, template in _SENTENCES:
        if known == code and set(re.findall(r"%\((\w+)\)s", template)) == set(params):
            return template % {name: f"{value:.2f}" for name, value in params.items()}
    return code


def _convert(model, change) -> None:
    """Rewrite the reason of every row whose evidence holds one, a batch of rows per UPDATE."""
    rows = model.objects.filter(evidence__has_key="reason").only("pk", "evidence").order_by("pk")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        if change(row.evidence):
            batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_update(batch, ["evidence"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["evidence"])


def _to_code(evidence: dict) -> bool:
    if "reason_params" in evidence or not isinstance(evidence.get("reason"), str):
        return False
    evidence["reason"], evidence["reason_params"] = sentence_to_code(evidence["reason"])
    return True


def _to_sentence(evidence: dict) -> bool:
    if "reason_params" not in evidence:
        return False
    evidence["reason"] = code_to_sentence(evidence["reason"], evidence.pop("reason_params") or {})
    return True


def forwards(apps, schema_editor):
    for name in ("MatchEdge", "ClusterMember"):
        _convert(apps.get_model("dedup", name), _to_code)


def backwards(apps, schema_editor):
    for name in ("MatchEdge", "ClusterMember"):
        _convert(apps.get_model("dedup", name), _to_sentence)


class Migration(migrations.Migration):
    dependencies = [("dedup", "0014_cluster_member_summary")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
