"""Failure reasons are stored in English (a worker has no reader); these show them in the reader's language."""

import re
from functools import cache

from django.utils.translation import gettext, gettext_noop

# Every reason a version can fail with, as dedup/fingerprint.py, dedup/services.py and dedup/tasks.py word it.
# The more specific wording comes first: the first template that matches the whole reason is used.
REASONS = (
    gettext_noop("The file is empty."),
    gettext_noop("The image is too large to process safely (it does not fit in memory)."),
    gettext_noop("The image is too large to process safely (%(pixels)s megapixels, limit %(limit)s)."),
    gettext_noop("The image is too large to process safely (limit %(limit)s)."),
    gettext_noop("The image is truncated or corrupt: the %(format)s header could not be read."),
    gettext_noop("The image is truncated or corrupt: %(detail)s."),
    gettext_noop("Not an image this system can read (HEIC/HEIF/AVIF photos are not supported yet)."),
    gettext_noop("Not an image this system can read (looks like a PDF document)."),
    gettext_noop("Not an image this system can read (looks like HTML/SVG/text)."),
    gettext_noop(
        "Not an image this system can read (unsupported file type; expected JPEG, PNG, TIFF, WebP, GIF or BMP)."
    ),
    gettext_noop("The file is an image with a web page, script or archive hidden in it, so it is refused."),
    gettext_noop("The stored file is missing."),
    gettext_noop("The stored file could not be read: %s"),
    gettext_noop("Processing took too long and was stopped."),
    gettext_noop("An unexpected error stopped processing; the file is kept. Reference: version %s."),
)
_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s|%s")


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    def group(match: re.Match[str]) -> str:
        return f"(?P<{match[1]}>.+?)" if match[1] else "(.+?)"

    return [(re.compile(_PLACEHOLDER.sub(group, re.escape(template)), re.S), template) for template in REASONS]


def reason_translate(reason: str) -> str:
    """The reason in the active language; one this module does not know is returned unchanged."""
    for pattern, template in _patterns():
        if match := pattern.fullmatch(reason):
            values = match.groupdict() or match.groups()
            return gettext(template) % values if values else gettext(template)
    return reason
