"""An unwritable file store: uploads answer 503 with the reason, processing fails with a storage reason."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext
from rest_framework.test import APIClient

import dedup.services as processing
from collections_app.models import Item, Version
from collections_app.services import source_get_or_create
from dedup.models import Fingerprint
from dedup.tasks import process_version
from tests.conftest import store_file
from tests.images import encode, scene

pytestmark = pytest.mark.django_db

REASON_MSGID = (
    "The file store cannot be written to just now, so %(name)s and any files after it were not stored. "
    "Files stored before it are kept. Try again later; if this goes on, tell an administrator."
)
REASON = "The file store cannot be written to just now, so one.jpg and any files after it were not stored."


@pytest.fixture
def media(settings, tmp_path):
    """A media root of this test's own; `block(folder)` puts a plain file where that folder has to be made,
    so the real filesystem refuses every write under it (the tests run as root, whom permissions never stop)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()

    def block(folder: str) -> None:
        (settings.MEDIA_ROOT / folder).write_bytes(b"not a folder")

    return block


def _files():
    return [SimpleUploadedFile(f"{name}.jpg", encode(scene(n))) for n, name in enumerate(["one", "two"], 70)]


def test_an_upload_page_post_to_an_unwritable_store_answers_503_with_the_reason_and_stores_nothing(
    client, role_user, media
):
    media("originals")
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    response = client.post(reverse("upload"), {"source": source.pk, "files": _files()})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The file store is unavailable" in page and REASON in page
    assert "Try again later; if this goes on, tell an administrator." in page
    assert not Version.objects.exists() and not Item.objects.exists()


def test_an_api_upload_to_an_unwritable_store_answers_503_in_json_with_the_reason(role_user, media):
    media("originals")
    api = APIClient()
    api.force_authenticate(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    response = api.post("/api/v1/uploads/", {"source": source.pk, "files": _files()})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith(REASON)
    assert not Version.objects.exists() and not Item.objects.exists()


def test_the_reason_is_given_in_the_readers_language_on_the_page_and_in_the_api(client, role_user, media):
    media("originals")
    user = role_user("uploader")
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    source = source_get_or_create(name="Events portal")
    chinese = {"accept-language": "zh-hant"}
    with translation.override("zh-hant"):  # left as it was afterwards: the requests activate the reader's language
        reason = gettext(REASON_MSGID) % {"name": "one.jpg"}
        page = client.post(reverse("upload"), {"source": source.pk, "files": _files()}, headers=chinese)
        answer = api.post("/api/v1/uploads/", {"source": source.pk, "files": _files()}, headers=chinese)
    assert page.status_code == 503
    assert '<html lang="zh-hant">' in page.content.decode() and escape(reason) in page.content.decode()
    assert answer.status_code == 503 and answer.json() == {"detail": reason}


def test_ingest_from_a_folder_into_an_unwritable_store_stops_with_the_reason(media, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(encode(scene(73)))
    media("originals")
    with pytest.raises(CommandError, match="^" + re.escape(REASON)):
        call_command("ingest", str(folder), source="Photo Unit", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Version.objects.exists()


def test_thumbnails_the_store_will_not_take_fail_the_version_with_a_storage_reason(media, monkeypatch):
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    version = store_file("a.jpg", encode(scene(72)))
    media("thumbs")
    process_version.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == Version.Status.FAILED
    assert version.error_code == "storage_unwritable"
    assert version.error_params == {"detail": "Not a directory"}
    assert version.error_text.startswith("The file store could not be written to, so the thumbnails were not saved")
    assert not Fingerprint.objects.filter(pk=version.pk).exists()
