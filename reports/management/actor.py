"""Who a management command acts as, for the audit trail."""

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def command_actor(*, username: str | None, command: str) -> Any:
    """The named account, or the operating-system user who ran the command."""
    if username is None:
        return f"{getpass.getuser()} (manage.py {command})"
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist as exc:
        raise CommandError(f"No account named {username!r}.") from exc
