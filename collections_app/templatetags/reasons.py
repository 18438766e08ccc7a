"""Refusals kept on a batch as codes with parameters; pages show them in the reader's language."""

from django import template

from collections_app.failures import skipped_reason

register = template.Library()


@register.filter
def reason(row: dict) -> str:
    """The words for one skipped file of a batch."""
    return skipped_reason(row)
