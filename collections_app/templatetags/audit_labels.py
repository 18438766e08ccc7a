"""Audit actions are stored as codes ("cluster.merge"); pages show them in words in the reader's language."""

from django import template
from django.utils.translation import gettext_lazy as _

from collections_app.services import SYSTEM_ACTOR

register = template.Library()

ACTION_LABELS = {
    "version.ingest": _("File stored"),
    "version.retry": _("Processing started again"),
    "version.reclaim": _("Moved to quarantine"),
    "version.restore": _("Restored from quarantine"),
    "version.purge": _("Deleted for good"),
    "version.legal_hold": _("Legal hold placed"),
    "version.legal_hold_lift": _("Legal hold lifted"),
    "version.fixity_check": _("Fixity checked"),
    "item.sidecar_import": _("Metadata applied from a CSV"),
    "item.mark_authoritative": _("Authoritative version chosen"),
    "item.authority_request": _("Authoritative version requested"),
    "item.authority_reject": _("Request turned down"),
    "cluster.merge": _("Merged"),
    "cluster.dismiss": _("Marked not duplicates"),
    "cluster.split": _("Version taken out of the cluster"),
    "cluster.skip": _("Skipped for later"),
    "cluster.undo": _("Decision undone"),
    "pair.not_duplicate": _("Pair marked not duplicates"),
    "pair.confirmed_duplicate": _("Possible duplicate confirmed as the same picture"),
    "statement.issue": _("Verification statement issued"),
    "bulkrule.create": _("Bulk rule defined"),
    "bulk.run": _("Bulk rule run"),
    "bulk.undo": _("Bulk run undone"),
}


@register.filter
def audit_action(code: str) -> str:
    """The action in words; an unknown code is shown as it is."""
    return str(ACTION_LABELS.get(code, code))


@register.filter
def audit_actor(event) -> str:
    """Who made the event: the person's name, or words for the system when no person did."""
    if event.actor_id is None and event.actor_label == SYSTEM_ACTOR:
        return str(_("the system"))
    return event.actor_label
