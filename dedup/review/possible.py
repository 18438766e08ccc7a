"""Possible duplicates: pairs verification could not settle (the same picture except one region that may be
other content), which a curator confirms or declines; either decision is remembered."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from collections_app.services import audit_record
from dedup.matching.clusters import version_match
from dedup.models import ConfirmedDuplicatePair, MatchEdge, MatchKind
from dedup.review.services import ReviewError, pair_mark_not_duplicate


@transaction.atomic
def possible_confirm(*, version_a_id: int, version_b_id: int, actor: Any) -> ConfirmedDuplicatePair:
    """The two are the same picture: the pair counts as verified from now on and the clusters are regrouped."""
    a, b = sorted((version_a_id, version_b_id))
    edge = (
        MatchEdge.objects.select_for_update()
        .filter(version_a_id=a, version_b_id=b, is_duplicate=False, evidence__possible=True)
        .first()
    )
    if edge is None:
        raise ReviewError(_("These two versions are not waiting as a possible duplicate."))
    user = actor if getattr(actor, "is_authenticated", False) else None
    pair, _created = ConfirmedDuplicatePair.objects.get_or_create(
        version_a_id=a, version_b_id=b, defaults={"decided_by": user}
    )
    edge.is_duplicate, edge.kind = True, MatchKind.NEAR
    edge.evidence = {**edge.evidence, "confirmed": True}
    edge.save(update_fields=["is_duplicate", "kind", "evidence"])
    audit_record(actor=actor, action="pair.confirmed_duplicate", target=pair, after={"versions": [a, b]})
    version_match(version_id=a)
    return pair


def possible_decline(*, version_a_id: int, version_b_id: int, actor: Any) -> None:
    """Not the same picture: remembered exactly as a curator's "not duplicates"."""
    pair_mark_not_duplicate(version_a_id=version_a_id, version_b_id=version_b_id, actor=actor)
