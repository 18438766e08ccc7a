"""API tokens: issued after a checked sign-in, revoked one by one or all at once (and on a password change)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once: only its SHA-512 digest is stored
    key: str  # the first characters, which name the token when listing or revoking it
    expiry: datetime


@transaction.atomic
def token_issue(*, user) -> IssuedToken:
    """A new token for the user, valid for DUPFINDER_API_TOKEN_TTL_HOURS; the user's expired ones are deleted."""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user)
    return IssuedToken(token=token, key=instance.token_key, expiry=instance.expiry)


def token_revoke(*, user, key: str) -> bool:
    """Revoke the user's token named by `key`; False when the user has none by that name."""
    deleted, _per_model = AuthToken.objects.filter(user=user, token_key=key).delete()
    return deleted > 0


def tokens_revoke_all(*, user) -> int:
    """Revoke every token of the user; returns how many there were."""
    deleted, _per_model = AuthToken.objects.filter(user=user).delete()
    return deleted
