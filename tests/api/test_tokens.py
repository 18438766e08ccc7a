"""API tokens: stored hashed, a new one per sign-in, expiring, listed and revoked by their owner, and all revoked
when the owner's password changes."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
ROOT = Path(__file__).resolve().parents[2]


def _sign_in(username: str, password: str = PASSWORD, address: str = "192.0.2.50"):
    return APIClient().post("/api/v1/token/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _token_for(username: str, password: str = PASSWORD) -> str:
    response = _sign_in(username, password)
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _as(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _works(token: str) -> bool:
    status = _as(token).get("/api/v1/sources/").status_code
    assert status in (200, 401)
    return status == 200


def test_each_sign_in_issues_a_new_token_that_is_stored_only_as_a_hash(role_user):
    role_user("viewer")
    first, second = _token_for("viewer"), _token_for("viewer")
    assert first != second and _works(first) and _works(second)
    stored = AuthToken.objects.filter(user__username="viewer").values_list("digest", "token_key")
    assert len(stored) == 2
    assert all(first not in (digest, key) and second not in (digest, key) for digest, key in stored)


def test_a_token_expires_after_the_configured_lifetime(role_user, settings, monkeypatch):
    role_user("viewer")
    response = _sign_in("viewer")
    token, expiry = response.json()["token"], response.json()["expiry"]
    hours = settings.DUPFINDER_API_TOKEN_TTL_HOURS
    expected = timezone.now() + timedelta(hours=hours)
    assert abs(datetime.fromisoformat(expiry) - expected) < timedelta(minutes=1)
    assert _works(token)
    later = timezone.now() + timedelta(hours=hours, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = _as(token).get("/api/v1/sources/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."
    assert not AuthToken.objects.filter(user__username="viewer").exists()  # the expired token is deleted


def test_the_token_lifetime_is_read_from_the_environment_and_must_be_an_hour_or_more():
    def settings_with(hours: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DUPFINDER_API_TOKEN_TTL_HOURS": hours}
        code = "from django.conf import settings; print(settings.REST_KNOX['TOKEN_TTL'])"
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert settings_with("72").stdout.strip() == "3 days, 0:00:00"
    refused = settings_with("0")
    assert refused.returncode != 0 and "DUPFINDER_API_TOKEN_TTL_HOURS must be a whole number" in refused.stderr


def test_a_user_lists_their_own_tokens_and_revokes_one(role_user):
    role_user("viewer")
    role_user("curator")
    kept, revoked = _token_for("viewer"), _token_for("viewer")
    others = _token_for("curator")
    listed = _as(kept).get("/api/v1/tokens/")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert len(rows) == 2 and {row["id"] for row in rows} == {kept[:15], revoked[:15]}
    assert {row["id"]: row["current"] for row in rows} == {kept[:15]: True, revoked[:15]: False}
    assert all(row["expiry"] for row in rows) and all(kept not in str(row) for row in rows)
    assert _as(kept).delete(f"/api/v1/tokens/{others[:15]}/").status_code == 404  # not the viewer's
    assert _works(others)
    assert _as(kept).delete(f"/api/v1/tokens/{revoked[:15]}/").status_code == 204
    assert not _works(revoked) and _works(kept)


def test_logout_all_revokes_every_token_of_the_user_and_no_one_elses(role_user):
    role_user("viewer")
    role_user("curator")
    mine = [_token_for("viewer") for _n in range(3)]
    others = _token_for("curator")
    assert _as(mine[0]).post("/api/v1/tokens/logout-all/").status_code == 204
    assert not any(_works(token) for token in mine)
    assert _works(others)


def test_the_token_list_needs_a_sign_in(role_user):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/tokens/").status_code == 401
    assert anonymous.post("/api/v1/tokens/logout-all/").status_code == 401
    assert _as("not-a-token").get("/api/v1/tokens/").status_code == 401


def test_changing_the_password_revokes_every_token_of_the_user(role_user):
    user = role_user("viewer")
    role_user("curator")
    tokens = [_token_for("viewer"), _token_for("viewer")]
    others = _token_for("curator")
    user.set_password("a-new-password-2026")
    user.save()
    assert not any(_works(token) for token in tokens)
    assert _works(others)
    assert _works(_token_for("viewer", "a-new-password-2026"))


def test_the_password_change_page_form_and_an_unusable_password_revoke_the_tokens(role_user):
    user = role_user("viewer")
    token = _token_for("viewer")
    form = PasswordChangeForm(
        user, {"old_password": PASSWORD, "new_password1": "Sturdy-new-pw-2026", "new_password2": "Sturdy-new-pw-2026"}
    )
    assert form.is_valid(), form.errors
    form.save()
    assert not _works(token)
    token = _token_for("viewer", "Sturdy-new-pw-2026")
    user.refresh_from_db()
    user.set_unusable_password()
    user.save()
    assert not _works(token)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def test_django_re_hashing_the_same_password_at_sign_in_keeps_the_tokens(role_user):
    user = role_user("viewer")
    token = _token_for("viewer")
    # A hash Django wants to upgrade (a salt too short for the hasher): the next sign-in stores a new hash.
    type(user).objects.filter(pk=user.pk).update(password=make_password(PASSWORD, salt="ab", hasher="md5"))
    user.refresh_from_db()
    old_hash = user.password
    assert user.check_password(PASSWORD)
    user.refresh_from_db()
    assert user.password != old_hash
    assert _works(token)
    user.first_name = "Vera"
    user.save()  # a save that leaves the password alone keeps them too
    assert _works(token)


def test_the_token_endpoint_keeps_the_sign_in_throttle_and_says_so(role_user):
    role_user("viewer")
    for _attempt in range(4):
        wrong = _sign_in("viewer", "guess", address="192.0.2.9")
        assert wrong.status_code == 400 and "did not match" in wrong.json()["detail"]
    assert "Wait 15 minutes" in _sign_in("viewer", "guess", address="192.0.2.9").json()["detail"]  # the fifth
    paused = _sign_in("viewer", address="192.0.2.9")  # even the right password
    assert paused.status_code == 400 and "token" not in paused.json()
    assert "Too many failed sign-in attempts for this username" in paused.json()["detail"]
    assert _sign_in("viewer", address="192.0.2.10").status_code == 200


def test_a_token_header_that_is_not_utf8_is_refused_with_401_not_a_server_error(role_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token \xff\xfe")
    response = client.get("/api/v1/sources/")
    assert response.status_code == 401


def test_the_old_permanent_tokens_table_is_dropped_by_the_migration():
    assert "authtoken_token" not in connection.introspection.table_names()
