"""Short names for match kinds, where the full description would crowd a card or a table cell."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

SHORT_KINDS = {
    "exact": _("Exact copy"),
    "same_pixels": _("Same pixels"),
    "near": _("Near duplicate"),
    "rotated": _("Rotated or mirrored"),
}


@register.filter
def kind_short(kind: str) -> str:
    return str(SHORT_KINDS.get(kind, kind))


@register.filter
def confidence_words(value: float) -> str:
    """A cluster's confidence in plain words ("very likely the same picture")."""
    from dedup.review.confidence import confidence_words as words

    return words(value or 0.0)
