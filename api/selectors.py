"""Reads for the API's own records: a user's tokens."""

from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken


def tokens_of(*, user) -> QuerySet[AuthToken]:
    """The user's tokens still valid, newest first."""
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return AuthToken.objects.filter(live, user=user).order_by("-created")
