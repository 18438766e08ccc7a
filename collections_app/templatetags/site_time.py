"""Times as every page shows them: the site's time zone and format, with the zone named."""

from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

register = template.Library()


def zone_name(moment: datetime) -> str:
    """The zone in words: "Hong Kong time" for the site's usual zone, else its abbreviation (UTC, CET)."""
    if settings.TIME_ZONE == "Asia/Hong_Kong":
        return _("Hong Kong time")
    return moment.tzname() or settings.TIME_ZONE


def site_time_text(value: datetime | None) -> str:
    """ "01/12/2026 19:30 (Hong Kong time)": what the pages, and the upload page's script, show for a time."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return _("%(time)s (%(zone)s)") % {"time": date_format(local, "SHORT_DATETIME_FORMAT"), "zone": zone_name(local)}


@register.filter
def site_time(value: datetime | None) -> str:
    return site_time_text(value)


@register.simple_tag
def site_now() -> str:
    """The present moment as `site_time` shows a time; the 500 page uses it, having no database to read."""
    return site_time_text(timezone.now())
