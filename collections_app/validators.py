"""Checks on catalogue values that travel beyond the page, into file names, headers and other systems."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Control and format characters (line breaks, tabs, NUL, direction overrides, zero-width marks) and the
# Unicode line and paragraph separators: none belongs in an identifier, and each can break or disguise a
# file name or header it is copied into.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value)


def validate_identifier(value: str) -> None:
    """An identifier or accession number is one line of visible text."""
    if has_control_characters(value):
        raise ValidationError(
            _("An identifier may not contain line breaks, tabs or other control characters."), code="control_character"
        )
