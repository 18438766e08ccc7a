"""Writes for records officers: marking a version authoritative, with optional approval by a second officer."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import AuthorityRequest, Item, Version
from collections_app.services import audit_record

MARK_PERM = "collections_app.mark_authoritative"
APPROVE_PERM = "collections_app.approve_authoritative"


class AuthorityError(Exception):
    """A choice that cannot be recorded; the message is meant for the records officer."""


@dataclass(frozen=True)
class AuthorityOutcome:
    item: Item
    applied: bool  # False: waiting for a second officer's approval
    request: AuthorityRequest | None = None


def _require(actor: Any, perm: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(perm):
        raise PermissionDenied


def _version_state(version: Version | None) -> dict | None:
    if version is None:
        return None
    return {
        "id": version.pk,
        "sha256": version.sha256,
        "original_filename": version.original_filename,
        "source": version.source.name,
        "uploaded_at": version.uploaded_at.isoformat(),
    }


def _lock_item(item_id: int) -> Item:
    item = Item.objects.select_for_update(of=("self",)).select_related("authoritative_version__source").get(pk=item_id)
    if item.merged_into_id:
        raise AuthorityError(_("This item was merged into another; choose on the surviving item."))
    return item


def _checked_version(item: Item, version_id: int) -> Version:
    version = Version.objects.select_related("source").filter(pk=version_id, item=item).first()
    if version is None:
        raise AuthorityError(_("That version does not belong to this item."))
    if version.pk == item.authoritative_version_id:
        raise AuthorityError(_("That version is already the authoritative one."))
    return version


def _apply(*, item: Item, version: Version, actor: Any, reason: str, after: dict) -> None:
    """Point the item at the version; copies kept as duplicates of the old choice follow the new one."""
    previous = item.authoritative_version
    moved = {}
    if previous is not None:
        followers = Version.objects.filter(item=item, duplicate_of=previous).exclude(pk=version.pk)
        moved = {str(pk): previous.pk for pk in followers.values_list("pk", flat=True)}
        if moved:
            followers.update(duplicate_of=version)
            Version.objects.filter(pk=previous.pk).update(duplicate_of=version)
    Version.objects.filter(pk=version.pk).update(duplicate_of=None)
    item.authoritative_version = version
    item.save(update_fields=["authoritative_version", "updated_at"])
    audit_record(
        actor=actor,
        action="item.mark_authoritative",
        target=item,
        reason=reason,
        before={"authoritative_version": _version_state(previous), "duplicate_of": moved},
        after={"authoritative_version": _version_state(version), **after},
    )


@transaction.atomic
def item_mark_authoritative(*, item_id: int, version_id: int, actor: Any, reason: str) -> AuthorityOutcome:
    """Make a version authoritative now, or, with DUPFINDER_AUTHORITY_APPROVAL, ask a second officer."""
    _require(actor, MARK_PERM)
    reason = reason.strip()
    if not reason:
        raise AuthorityError(_("Write down why this version is authoritative."))
    item = _lock_item(item_id)
    version = _checked_version(item, version_id)
    if not settings.DUPFINDER_AUTHORITY_APPROVAL:
        _apply(item=item, version=version, actor=actor, reason=reason, after={})
        return AuthorityOutcome(item=item, applied=True)
    if AuthorityRequest.objects.filter(item=item, status=AuthorityRequest.Status.PENDING).exists():
        raise AuthorityError(_("Another choice for this item is already waiting for approval."))
    request = AuthorityRequest.objects.create(item=item, version=version, reason=reason, requested_by=actor)
    audit_record(
        actor=actor,
        action="item.authority_request",
        target=item,
        reason=reason,
        before={"authoritative_version": _version_state(item.authoritative_version)},
        after={"requested_version": _version_state(version), "request": request.pk},
    )
    return AuthorityOutcome(item=item, applied=False, request=request)


def _lock_request(request_id: int) -> AuthorityRequest:
    request = AuthorityRequest.objects.select_for_update().select_related("requested_by").get(pk=request_id)
    if request.status != AuthorityRequest.Status.PENDING:
        raise AuthorityError(_("This request was already decided."))
    return request


def _decide(request: AuthorityRequest, actor: Any, status: str, note: str) -> None:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


@transaction.atomic
def authority_request_approve(*, request_id: int, actor: Any, note: str = "") -> AuthorityOutcome:
    """A second, different records officer approves; the choice takes effect and is audited as theirs too."""
    _require(actor, APPROVE_PERM)
    request = _lock_request(request_id)
    if request.requested_by_id == actor.pk:
        raise AuthorityError(_("A different records officer must approve this choice."))
    item = _lock_item(request.item_id)
    version = _checked_version(item, request.version_id)
    _decide(request, actor, AuthorityRequest.Status.APPROVED, note.strip())
    after = {"request": request.pk, "requested_by": request.requested_by.get_username(), "approval_note": note.strip()}
    _apply(item=item, version=version, actor=actor, reason=request.reason, after=after)
    return AuthorityOutcome(item=item, applied=True, request=request)


@transaction.atomic
def authority_request_reject(*, request_id: int, actor: Any, note: str) -> AuthorityRequest:
    """Turn down (or, by the requester, withdraw) a pending choice; the reason is required and audited."""
    _require(actor, APPROVE_PERM)
    note = note.strip()
    if not note:
        raise AuthorityError(_("Write down why the request is turned down."))
    request = _lock_request(request_id)
    _decide(request, actor, AuthorityRequest.Status.REJECTED, note)
    audit_record(
        actor=actor,
        action="item.authority_reject",
        target=request.item,
        reason=note,
        after={"request": request.pk, "requested_version": request.version_id},
    )
    return request
