"""Security settings and behaviour: deploy checks, the CSP, sign-in throttling, session expiry and file streaming."""

import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Version
from collections_app.services import batch_create, source_get_or_create, version_ingest
from dedup.models import Cluster
from tests.dedup.conftest import add_version  # noqa: F401 - stores and processes a version in-process
from tests.images import encode, scene

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pw-for-tests-1"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_earlier_failures():
    """Sign-in failures are counted in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


# --- production settings ---------------------------------------------------------------


def _production(tmp_path, *command: str, **environment: str) -> subprocess.CompletedProcess:
    """Run manage.py under the production settings with only the required variables (and these) set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DUPFINDER_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="dedup.example.org",
        DJANGO_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://dupfinder:unused@127.0.0.1:5432/dupfinder",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        **environment,
    )
    return subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PROXY_SETTINGS = (
    "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER, settings.DUPFINDER_CLIENT_IP_HEADER)"
)


@pytest.mark.parametrize(
    "environment",
    [{}, {"DUPFINDER_PROXY_CLIENT_IP_HEADER": "X-Real-IP"}],
    ids=["defaults", "behind nginx as the README describes"],
)
def test_production_settings_pass_the_deploy_check_without_a_warning(tmp_path, environment):
    result = _production(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_by_default_no_proxy_is_trusted_and_the_client_is_the_connecting_address(tmp_path):
    result = _production(tmp_path, "shell", "--no-imports", "-c", PROXY_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None"]  # SECURE_PROXY_SSL_HEADER None, no client address header


@pytest.mark.parametrize("declared", ["X-Real-IP", "x-real-ip", "HTTP_X_REAL_IP"])
def test_declaring_the_proxys_client_address_header_trusts_the_proxy_for_both(tmp_path, declared):
    shell = ("shell", "--no-imports", "-c", PROXY_SETTINGS)
    result = _production(tmp_path, *shell, DUPFINDER_PROXY_CLIENT_IP_HEADER=declared)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') HTTP_X_REAL_IP"


@pytest.mark.parametrize(
    ("environment", "said"),
    [
        ({"DUPFINDER_CLIENT_IP_HEADER": "HTTP_X_REAL_IP"}, "replaced by DUPFINDER_PROXY_CLIENT_IP_HEADER"),
        ({"DUPFINDER_PROXY_CLIENT_IP_HEADER": "X-Real-IP: 1.2.3.4"}, "must be a header name such as X-Real-IP"),
    ],
    ids=["the old variable", "not a header name"],
)
def test_a_proxy_setting_that_cannot_be_followed_stops_start_up_with_a_plain_reason(tmp_path, environment, said):
    result = _production(tmp_path, "check", **environment)
    assert result.returncode != 0 and said in result.stderr


@pytest.mark.parametrize(
    ("proxy_header", "client_ip_header", "warned"),
    [
        (("HTTP_X_FORWARDED_PROTO", "https"), "", True),
        (("HTTP_X_FORWARDED_PROTO", "https"), "HTTP_X_REAL_IP", False),
        (None, "", False),
    ],
)
def test_the_deploy_check_warns_when_a_proxy_is_in_front_but_no_client_address_header_is_set(
    proxy_header, client_ip_header, warned
):
    from django.core.checks import run_checks

    with override_settings(SECURE_PROXY_SSL_HEADER=proxy_header, DUPFINDER_CLIENT_IP_HEADER=client_ip_header):
        ids = [message.id for message in run_checks(include_deployment_checks=True)]
    assert ("dupfinder.W001" in ids) is warned


def test_the_client_address_check_is_silent_when_the_throttle_is_off():
    from django.core.checks import run_checks

    with override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        DUPFINDER_CLIENT_IP_HEADER="",
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"],
    ):
        assert "dupfinder.W001" not in [message.id for message in run_checks(include_deployment_checks=True)]


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DUPFINDER_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


# --- Content Security Policy -------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=|<style\b", re.I)


def _inline_code(text: str) -> list[str]:
    return [m.group(0) for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE) for m in pattern.finditer(text)]


def test_no_template_holds_inline_script_event_handlers_or_style_attributes():
    found = {
        str(path.relative_to(ROOT)): _inline_code(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "templates").rglob("*.html"))
    }
    assert {path: code for path, code in found.items() if code} == {}


def test_every_page_carries_a_policy_without_inline_script_and_shows_none(client, role_user, add_version):  # noqa: F811
    first = add_version("a.jpg", encode(scene(1)))
    add_version("b.png", encode(scene(1), "PNG"))
    pages = [
        reverse("login"),
        reverse("home"),
        reverse("upload"),
        reverse("verify"),
        reverse("batch-detail", args=[batch_create(source=first.source).pk]),
        reverse("item-detail", args=[first.item_id]),
        reverse("review-queue"),
        reverse("review-cluster", args=[Cluster.objects.get().pk]),
        reverse("reports-dashboard"),
        reverse("reports-failures"),
        reverse("api-docs"),
    ]
    client.force_login(role_user("administrator"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", url
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url
        if url != reverse("api-docs"):  # drf-spectacular's page, checked by the template scan above
            assert _inline_code(response.content.decode()) == [], url


def test_swagger_ui_starts_from_a_script_file_and_redoc_is_allowed_only_its_runtime_styles(client, role_user):
    client.force_login(role_user("viewer"))
    docs = client.get(reverse("api-docs")).content.decode()
    assert INLINE_SCRIPT.search(docs) is None and "?script=" in docs
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    redoc = client.get(reverse("api-redoc"))
    assert INLINE_SCRIPT.search(redoc.content.decode()) is None and "googleapis" not in redoc.content.decode()
    assert "style-src 'self' 'unsafe-inline'" in redoc["Content-Security-Policy"]
    assert "script-src 'self';" in redoc["Content-Security-Policy"]


# --- sign-in throttling --------------------------------------------------------------------


def _sign_in(client, password: str, address: str = "192.0.2.1"):
    return client.post(reverse("login"), {"username": "viewer", "password": password}, REMOTE_ADDR=address)


def test_sign_in_pauses_after_five_failures_with_a_clear_message_even_for_the_right_password(client, role_user):
    role_user("viewer")
    for _attempt in range(4):
        assert "did not match" in _sign_in(client, "guess").content.decode()
    fifth = _sign_in(client, "guess").content.decode()
    assert "Too many failed sign-in attempts" in fifth and "Wait 15 minutes" in fifth
    right = _sign_in(client, PASSWORD)
    assert right.status_code == 200 and "Too many failed sign-in attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert _sign_in(client, PASSWORD, address="192.0.2.99").status_code == 302  # another address is not paused


def test_the_pause_ends_when_the_window_has_passed(client, role_user, monkeypatch):
    import django.core.cache.backends.locmem as locmem

    role_user("viewer")
    for _attempt in range(5):
        _sign_in(client, "guess")
    assert _sign_in(client, PASSWORD).status_code == 200
    later = locmem.time.time() + settings.DUPFINDER_LOGIN_LOCKOUT_SECONDS + 1
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert _sign_in(client, PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, role_user):
    role_user("viewer")
    for _attempt in range(4):
        _sign_in(client, "guess")
    assert _sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(4):
        assert "did not match" in _sign_in(client, "guess").content.decode()


def test_the_api_token_endpoint_and_the_admin_are_throttled_too(client, role_user):
    role_user("administrator", username="viewer")
    for _attempt in range(5):
        client.post("/api/v1/token/", {"username": "viewer", "password": "guess"}, REMOTE_ADDR="192.0.2.1")
    token = client.post("/api/v1/token/", {"username": "viewer", "password": PASSWORD}, REMOTE_ADDR="192.0.2.1")
    assert token.status_code == 400 and "token" not in token.json()
    admin = client.post(reverse("admin:login"), {"username": "viewer", "password": PASSWORD}, REMOTE_ADDR="192.0.2.1")
    assert admin.status_code == 200 and "_auth_user_id" not in client.session


def test_one_address_failing_with_many_usernames_is_refused_any_username_and_another_address_is_not(client, role_user):
    role_user("viewer")
    for attempt in range(settings.DUPFINDER_LOGIN_MAX_FAILURES_PER_ADDRESS):
        client.post(reverse("login"), {"username": f"guess-{attempt}", "password": "guess"}, REMOTE_ADDR="192.0.2.7")
    right = _sign_in(client, PASSWORD, address="192.0.2.7")
    page = right.content.decode()
    assert right.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many failed sign-in attempts from your network" in page and "Wait 15 minutes" in page
    token = client.post("/api/v1/token/", {"username": "viewer", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    assert token.status_code == 400 and "token" not in token.json()
    assert _sign_in(client, PASSWORD, address="192.0.2.8").status_code == 302


def test_a_successful_sign_in_does_not_reset_the_count_for_the_address(client, role_user):
    role_user("viewer")
    limit = settings.DUPFINDER_LOGIN_MAX_FAILURES_PER_ADDRESS
    for attempt in range(limit - 1):
        client.post(reverse("login"), {"username": f"guess-{attempt}", "password": "guess"}, REMOTE_ADDR="192.0.2.7")
    assert _sign_in(client, PASSWORD, address="192.0.2.7").status_code == 302
    client.logout()
    client.post(reverse("login"), {"username": "one-more", "password": "guess"}, REMOTE_ADDR="192.0.2.7")
    assert _sign_in(client, PASSWORD, address="192.0.2.7").status_code == 200


# --- sessions ----------------------------------------------------------------------------


def test_a_session_lasts_eight_hours_at_most_and_ends_with_the_browser(client, role_user):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    role_user("viewer")
    response = _sign_in(client, PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # gone when the browser closes
    assert client.get(reverse("home")).status_code == 200
    session = Session.objects.get()
    assert abs((session.expire_date - timezone.now()).total_seconds() - 8 * 3600) < 60
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    assert client.get(reverse("home")).status_code == 302  # eight hours on: signed out


# --- stored files ------------------------------------------------------------------------


def _stored_version() -> Version:
    outcome = version_ingest(
        fileobj=io.BytesIO(encode(scene(2))), original_filename="harbour.jpg", source=source_get_or_create(name="S")
    )
    return outcome.version


def test_a_file_is_streamed_typed_by_its_format_inline_sandboxed_and_never_sniffed(client, role_user):
    version = _stored_version()
    client.force_login(role_user("viewer"))
    response = client.get(reverse("version-file", args=[version.pk]))
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="harbour.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert client.get(settings.MEDIA_URL + version.file.name).status_code == 404  # no public route


def test_a_file_of_unknown_format_is_only_offered_as_a_download(client, role_user):
    version = _stored_version()
    Version.objects.filter(pk=version.pk).update(format="")
    client.force_login(role_user("viewer"))
    response = client.get(reverse("version-file", args=[version.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="harbour.jpg"'


@override_settings(DUPFINDER_SENDFILE_HEADER="X-Accel-Redirect", DUPFINDER_SENDFILE_PREFIX="/protected-media/")
def test_with_x_accel_redirect_nginx_sends_the_file_once_the_view_allowed_it(client, role_user):
    version = _stored_version()
    url = reverse("version-file", args=[version.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "X-Accel-Redirect" not in anonymous
    client.force_login(role_user("viewer"))
    response = client.get(url)
    assert response["X-Accel-Redirect"] == f"/protected-media/{version.file.name}"
    assert response.content == b"" and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


@override_settings(DUPFINDER_SENDFILE_HEADER="X-Sendfile")
def test_with_x_sendfile_apache_is_given_the_absolute_path(client, role_user):
    version = _stored_version()
    client.force_login(role_user("viewer"))
    response = client.get(reverse("version-file", args=[version.pk]))
    assert response["X-Sendfile"] == default_storage.path(version.file.name) and response.content == b""
