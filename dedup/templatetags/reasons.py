"""A failure reason stored in English, shown in the reader's language."""

from django import template

from dedup.reasons import reason_translate

register = template.Library()


@register.filter
def failure_reason(reason: str) -> str:
    return reason_translate(reason or "")
