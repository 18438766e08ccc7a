"""Sign-in throttling against password guessing: failures counted per username and address, and per address."""

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


def client_ip(request: Any) -> str:
    """The address a request came from; behind a proxy, the header it is configured to trust."""
    meta = getattr(request, "META", None) or {}
    forwarded = meta.get(settings.DUPFINDER_CLIENT_IP_HEADER, "") if settings.DUPFINDER_CLIENT_IP_HEADER else ""
    return (forwarded.split(",")[0].strip() or meta.get("REMOTE_ADDR", "")) or "unknown"


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.casefold()}\n{ip}".encode()).hexdigest()
    return f"login-failures:{digest}"


def _address_key(ip: str) -> str:
    return f"login-failures-address:{hashlib.sha256(ip.encode()).hexdigest()}"


def address_blocked(*, ip: str) -> bool:
    """Whether an address has failed with so many usernames that it is refused any (password spraying)."""
    return cache.get(_address_key(ip), 0) >= settings.DUPFINDER_LOGIN_MAX_FAILURES_PER_ADDRESS


def login_blocked(*, username: str, ip: str) -> bool:
    return cache.get(_key(username, ip), 0) >= settings.DUPFINDER_LOGIN_MAX_FAILURES or address_blocked(ip=ip)


def _count(key: str) -> int:
    """Count one failure; the window starts at the first failure and is not extended by later ones."""
    cache.add(key, 0, timeout=settings.DUPFINDER_LOGIN_LOCKOUT_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.DUPFINDER_LOGIN_LOCKOUT_SECONDS)
        return 1


def login_failure_record(*, username: str, ip: str) -> int:
    """Count one failure for the username from the address and one for the address; returns the first count."""
    _count(_address_key(ip))
    return _count(_key(username, ip))


def login_failures_clear(*, username: str, ip: str) -> None:
    # The address count stays: one valid account must not reset the spraying limit for every other username.
    cache.delete(_key(username, ip))


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses a username from an address after too many failures, even with the right password,
    and any username from an address that has failed too often overall.

    Every way in (sign-in page, admin, API token) authenticates through here, so none can be used to guess.
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):
        name = username or kwargs.get("username") or ""
        ip = client_ip(request)
        if name and login_blocked(username=name, ip=ip):
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if name:
            if user is None:
                login_failure_record(username=name, ip=ip)
            else:
                login_failures_clear(username=name, ip=ip)
        return user


def sign_in_refusal(*, username: str, ip: str) -> str:
    """Why a sign-in just failed, in the words the sign-in page uses: paused for the address or the username, or a
    username and password that did not match."""
    messages = ThrottledAuthenticationForm.error_messages
    if username and login_blocked(username=username, ip=ip):
        code = "throttled_address" if address_blocked(ip=ip) else "throttled"
        return messages[code] % {"minutes": lockout_minutes()}
    return str(messages["invalid_login"])


def lockout_minutes() -> int:
    return max(1, settings.DUPFINDER_LOGIN_LOCKOUT_SECONDS // 60)


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, saying plainly when signing in is paused rather than blaming the password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Your username and password did not match. Please try again."),
        "throttled": _(
            "Too many failed sign-in attempts for this username from your network. "
            "Wait %(minutes)d minutes, then try again."
        ),
        "throttled_address": _(
            "Too many failed sign-in attempts from your network. Wait %(minutes)d minutes, then try again."
        ),
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            username = self.cleaned_data.get("username") or ""
            ip = client_ip(self.request)
            if username and login_blocked(username=username, ip=ip):
                code = "throttled_address" if address_blocked(ip=ip) else "throttled"
                raise forms.ValidationError(
                    self.error_messages[code],
                    code=code,
                    params={"minutes": lockout_minutes()},
                ) from None
            raise
