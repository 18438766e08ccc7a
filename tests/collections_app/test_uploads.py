"""Bulk upload batches: the batch page as it fills in, already-held files, retrying a failed file, resuming."""

import html
import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from collections_app.failures import skipped_reason
from collections_app.models import AuditEvent, IngestBatch, Item, Version
from collections_app.services import (
    VersionNotRetryable,
    batch_create,
    source_get_or_create,
    version_retry,
)
from collections_app.uploads import batch_files_upload
from dedup.imaging.errors import Failure, FingerprintError
from dedup.services import version_mark_failed, version_process
from tests.conftest import browser_sign_in, needs_chromium, store_file
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch():
    return batch_create(source=source_get_or_create(name="Events portal"), label="Gala")


@pytest.fixture
def failed_version(batch):
    """A sound file whose processing failed (say the store was briefly unreadable): still pending, then failed."""
    version = store_file("gala/1.jpg", encode(scene(21)), batch=batch)
    version_mark_failed(version_id=version.pk, failure=FingerprintError(Failure.STORED_FILE_MISSING))
    version.refresh_from_db()
    assert version.status == Version.Status.FAILED
    return version


def test_retry_puts_a_failed_version_back_and_processes_it_after_commit(
    failed_version, role_user, django_capture_on_commit_callbacks
):
    actor = role_user("uploader")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        version_retry(version_id=failed_version.pk, actor=actor)
        failed_version.refresh_from_db()
        assert (failed_version.status, failed_version.error_code, failed_version.processed_at) == ("pending", "", None)
    assert len(callbacks) == 1  # queued only once the reset is committed
    callbacks[0]()  # tasks run eagerly in unit tests
    failed_version.refresh_from_db()
    assert failed_version.status == Version.Status.DONE
    event = AuditEvent.objects.get(action="version.retry")
    assert (event.actor, event.target_id) == (actor, str(failed_version.pk))
    assert event.before == {"status": "failed", "error_code": "stored_file_missing", "error_params": {}}
    assert event.after == {"status": "pending"}


def test_only_a_failed_version_can_be_retried(batch):
    version = store_file("gala/2.jpg", encode(scene(22)), batch=batch)
    with pytest.raises(VersionNotRetryable):
        version_retry(version_id=version.pk, actor=None)
    assert not AuditEvent.objects.filter(action="version.retry").exists()


def test_retry_button_on_the_batch_page_queues_the_file_again(client, role_user, failed_version):
    client.force_login(role_user("uploader"))
    page = client.get(reverse("batch-detail", args=[failed_version.batch_id])).content.decode()
    assert reverse("version-retry", args=[failed_version.pk]) in page
    assert "The stored file is missing." in page
    response = client.post(reverse("version-retry", args=[failed_version.pk]))
    assert response.status_code == 302 and response.url == reverse("batch-detail", args=[failed_version.batch_id])
    assert AuditEvent.objects.filter(action="version.retry").count() == 1
    assert Version.objects.get(pk=failed_version.pk).status in ("pending", "done")
    again = client.post(reverse("version-retry", args=[failed_version.pk]), follow=True)
    assert "Only a file whose processing failed can be retried." in again.content.decode()
    assert client.get(reverse("version-retry", args=[failed_version.pk])).status_code == 405


def test_viewers_see_no_retry_button_and_may_not_retry(client, role_user, failed_version):
    client.force_login(role_user("viewer"))
    page = client.get(reverse("batch-detail", args=[failed_version.batch_id])).content.decode()
    assert reverse("version-retry", args=[failed_version.pk]) not in page
    assert client.post(reverse("version-retry", args=[failed_version.pk])).status_code == 403
    assert Version.objects.get(pk=failed_version.pk).status == Version.Status.FAILED


def test_the_batch_page_polls_a_partial_that_shows_files_already_in_the_collection(
    client, role_user, batch, django_assert_max_num_queries
):
    archivist = role_user("uploader", "archivist")
    earlier_batch = batch_create(source=source_get_or_create(name="Photo Unit"))
    data = encode(scene(23))
    earlier = store_file("old/harbour.jpg", data, batch=earlier_batch, uploader=archivist)
    version_process(version_id=earlier.pk)
    when = timezone.make_aware(datetime(2024, 3, 5, 10, 0))
    Version.objects.filter(pk=earlier.pk).update(uploaded_at=when)
    copy = store_file("gala/harbour.jpg", data, batch=batch)
    for n in range(5):
        store_file(f"gala/{n}.jpg", encode(scene(30 + n)), batch=batch)
    client.force_login(role_user("viewer"))
    url = reverse("batch-detail", args=[batch.pk])

    page = client.get(url).content.decode()
    assert 'src="/static/js/batch.js"' in page and "<script>" not in page  # no inline script
    with django_assert_max_num_queries(12):  # the same few queries however many files the batch holds
        partial = client.get(url, headers={"X-Requested-With": "fetch"}).content.decode()
    assert partial.startswith('<div id="batch-live" data-waiting="6"') and "<html" not in partial
    row = partial[partial.index(f'data-version="{copy.pk}"') :].split("</tr>")[0]
    assert "Already in the collection" in row
    assert earlier.item.get_absolute_url() in row and earlier.item.identifier in row
    assert "uploaded by archivist on 05/03/2024 10:00 (Hong Kong time) from Photo Unit" in row


def test_a_file_sent_before_with_another_batch_is_listed_with_who_stored_it(client, role_user, batch):
    archivist = role_user("uploader", "archivist")
    data = encode(scene(24))
    first = batch_files_upload(batch=batch, files=[(io.BytesIO(data), "gala/a.jpg", len(data))], uploader=archivist)
    later = batch_create(source=batch.source)
    batch_files_upload(batch=later, files=[(io.BytesIO(data), "gala/a.jpg", len(data))], uploader=archivist)
    client.force_login(role_user("viewer"))
    page = client.get(reverse("batch-detail", args=[later.pk])).content.decode()
    skipped = page[page.index('id="skipped"') :].split("</ul>")[0]
    assert "gala/a.jpg" in skipped and "Already in the collection" in skipped
    assert first.files[0].version.item.identifier in skipped and "uploaded by archivist" in skipped


def test_a_batch_cut_off_half_way_keeps_what_arrived_and_a_resend_stores_only_the_rest(client, role_user):
    """upload.js sends one request per file, so each answered file is committed whatever happens to the others."""
    librarian = role_user("uploader")
    batch = batch_create(source=source_get_or_create(name="Events portal"), label="Gala", created_by=librarian)
    client.force_login(librarian)
    folder = {f"gala/{n}.jpg": encode(scene(40 + n)) for n in range(4)}

    def send(path: str) -> dict:
        upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], folder[path])
        response = client.post(reverse("api-uploads"), {"batch": batch.pk, "files": [upload], "paths": [path]})
        assert response.status_code == 201
        return response.json()["files"][0]

    for path in list(folder)[:2]:
        send(path)  # then the page is reloaded, or the connection drops
    assert sorted(batch.versions.values_list("original_path", flat=True)) == ["gala/0.jpg", "gala/1.jpg"]
    page = client.get(reverse("upload"), {"batch": batch.pk}).content.decode()
    assert f'data-batch="{batch.pk}"' in page
    received = client.get(reverse("api-version-list"), {"batch": batch.pk}).json()["results"]
    assert {(v["original_path"], v["byte_size"]) for v in received} == {
        (p, len(folder[p])) for p in list(folder)[:2]
    }  # what upload.js reads to skip files already received

    statuses = [send(path)["status"] for path in folder]
    assert statuses == ["already_ingested", "already_ingested", "created", "created"]
    assert batch.versions.count() == 4 and IngestBatch.objects.get(pk=batch.pk).skipped == []


def test_the_upload_page_renders_for_uploaders_with_its_script_and_no_inline_one(client, role_user):
    client.force_login(role_user("uploader"))
    page = client.get(reverse("upload")).content.decode()
    assert 'id="drop-zone"' in page and 'src="/static/js/upload.js"' in page and "<script>" not in page
    assert reverse("api-batch-list") in page and reverse("api-uploads") in page


def _post_upload(client, metadata: bytes):
    source = source_get_or_create(name="Events portal")
    files = [SimpleUploadedFile("one.jpg", encode(scene(41))), SimpleUploadedFile("two.jpg", encode(scene(42)))]
    return client.post(
        reverse("upload"),
        {"source": source.pk, "files": files, "metadata": SimpleUploadedFile("meta.csv", metadata)},
    )


def test_the_upload_page_without_javascript_stores_the_files_and_applies_the_sidecar_like_the_api(client, role_user):
    client.force_login(role_user("uploader"))
    response = _post_upload(client, b"filename,title,identifier\none.jpg,Gala dinner,HK-GALA-1\n")
    batch = IngestBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("batch-detail", args=[batch.pk])
    assert batch.versions.count() == 2
    assert Item.objects.get(identifier="HK-GALA-1").title == "Gala dinner"


def test_a_sidecar_that_cannot_be_read_is_refused_on_the_form_before_anything_is_stored(client, role_user):
    client.force_login(role_user("uploader"))
    response = _post_upload(client, b"name,title\none.jpg,Gala\n")
    assert response.status_code == 400
    assert "column named filename" in " ".join(response.context["form"].errors["metadata"])
    assert "Line 1 of the CSV needs a column named filename" in html.unescape(response.content.decode())
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_a_sidecar_value_over_the_csv_field_limit_is_a_400_on_the_page_with_its_line_and_stores_nothing(
    client, role_user
):
    client.force_login(role_user("uploader"))
    response = _post_upload(client, b'filename,title\none.jpg,"' + b"x" * 200_000 + b'"\n')
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Line 2 of the CSV has a value longer than 131072 characters" in page
    assert not IngestBatch.objects.exists() and not Version.objects.exists() and not Item.objects.exists()


def test_a_csv_among_the_files_that_cannot_be_read_refuses_the_upload_before_anything_is_stored(client, role_user):
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    files = [SimpleUploadedFile("one.jpg", encode(scene(41))), SimpleUploadedFile("meta.csv", b"filename\n\xff\n")]
    response = client.post(reverse("upload"), {"source": source.pk, "files": files})
    assert response.status_code == 400
    assert "meta.csv: Line 2 of the CSV is not UTF-8 text" in html.unescape(response.content.decode())
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_an_empty_file_on_the_upload_page_is_refused_by_name_and_the_others_are_stored(client, role_user):
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    files = [SimpleUploadedFile("one.jpg", encode(scene(41))), SimpleUploadedFile("empty.jpg", b"")]
    response = client.post(reverse("upload"), {"source": source.pk, "files": files}, follow=True)
    assert response.redirect_chain[0][1] == 302
    assert "empty.jpg was not stored: The file is empty." in html.unescape(response.content.decode())
    batch = IngestBatch.objects.get()
    assert list(batch.versions.values_list("original_filename", flat=True)) == ["one.jpg"]
    assert batch.skipped == [{"path": "empty.jpg", "code": "empty", "params": {}}]  # a code, worded when shown


def test_the_upload_page_sent_without_a_file_says_to_choose_one(client, role_user):
    client.force_login(role_user("uploader"))
    response = client.post(reverse("upload"), {"source": source_get_or_create(name="Events portal").pk})
    assert response.status_code == 400
    assert "Choose at least one file to upload." in response.content.decode()
    assert not IngestBatch.objects.exists()


def _multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> bytes:
    """A request body as a browser sends it; the test client shortens file names itself, a browser does not."""
    body = b""
    for name, value in fields.items():
        body += f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, data in files:
        head = f'--B\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        body += (head + "Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
    return body + b"--B--\r\n"


def test_a_file_name_too_long_to_be_received_is_answered_in_words_on_the_page_and_the_api(role_user):
    librarian = role_user("uploader")
    client = Client(enforce_csrf_checks=True)  # the CSRF check reads the body first, as in production
    client.force_login(librarian)
    token = client.get(reverse("upload")).cookies["csrftoken"].value
    source = source_get_or_create(name="Events portal")
    body = _multipart(
        {"csrfmiddlewaretoken": token, "source": source.pk}, [("files", "n" * 2000 + ".jpg", encode(scene(41)))]
    )
    multipart = "multipart/form-data; boundary=B"

    page = client.post(reverse("upload"), body, content_type=multipart)
    assert page.status_code == 400
    assert "A file name in the upload is too long to be received" in html.unescape(page.content.decode())
    assert 'id="upload-form"' in page.content.decode()  # the form is there to try again
    api = client.post(reverse("api-uploads"), body, content_type=multipart, headers={"X-CSRFToken": token})
    assert api.status_code == 400
    assert api.json()["detail"].startswith("A file name in the upload is too long to be received")
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_the_upload_page_still_refuses_a_post_without_its_csrf_token(role_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    response = client.post(
        reverse("upload"), {"source": source.pk, "files": [SimpleUploadedFile("one.jpg", encode(scene(41)))]}
    )
    assert response.status_code == 403
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_a_long_path_from_the_api_is_refused_for_that_file_with_a_reason_and_the_others_are_stored(client, role_user):
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    deep = "/".join(["folder"] * 200) + "/deep.jpg"
    files = [SimpleUploadedFile("deep.jpg", encode(scene(41))), SimpleUploadedFile("ok.jpg", encode(scene(42)))]
    response = client.post(reverse("api-uploads"), {"source": source.pk, "files": files, "paths": [deep, "ok.jpg"]})
    assert response.status_code == 201
    refused, stored = response.json()["files"]
    assert refused["status"] == "refused" and refused["path"].endswith("…") and len(refused["path"]) == 1001
    assert refused["message"] == (
        f"The path is {len(deep)} characters long; the catalogue keeps paths of up to 1000. "
        "Shorten the folder names and send it again."
    )
    assert stored["status"] == "created"
    assert skipped_reason(IngestBatch.objects.get().skipped[0]) == refused["message"]


def test_only_the_batchs_creator_or_an_administrator_may_add_files_to_it_on_the_upload_page(client, role_user):
    owner, other, admin = role_user("uploader", "owner"), role_user("uploader", "other"), role_user("administrator")
    batch = batch_create(source=source_get_or_create(name="Events portal"), label="Gala", created_by=owner)
    url = f"{reverse('upload')}?batch={batch.pk}"

    def post(user, seed: int):
        client.force_login(user)
        files = [SimpleUploadedFile(f"{seed}.jpg", encode(scene(seed)))]
        return client.post(url, {"source": batch.source_id, "files": files})

    client.force_login(other)
    page = client.get(url)
    assert page.status_code == 403
    text = html.unescape(page.content.decode())
    assert f"Batch {batch.pk} was started by someone else: only they or an administrator can add files to it." in text
    assert 'data-batch=""' in text and f'action="{reverse("upload")}"' in text  # the form starts a new batch
    refused = post(other, 50)
    assert refused.status_code == 403 and "started by someone else" in refused.content.decode()
    assert not Version.objects.exists() and IngestBatch.objects.count() == 1

    assert post(owner, 51).status_code == 302
    assert post(admin, 52).status_code == 302
    assert sorted(batch.versions.values_list("original_filename", flat=True)) == ["51.jpg", "52.jpg"]


def test_a_batch_that_does_not_exist_is_named_on_the_upload_page_and_nothing_is_stored(client, role_user):
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    files = [SimpleUploadedFile("one.jpg", encode(scene(41)))]
    response = client.post(f"{reverse('upload')}?batch=9999", {"source": source.pk, "files": files})
    assert response.status_code == 404
    assert "There is no batch 9999. Choose a source below to start a new one." in response.content.decode()
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_adding_to_anyones_batch_is_a_permission_of_the_administrator_role_alone():
    from collections_app.roles import ROLE_PERMISSIONS
    from collections_app.selectors import ADD_TO_ANY_BATCH_PERMISSION

    holders = [role for role, names in ROLE_PERMISSIONS.items() if ADD_TO_ANY_BATCH_PERMISSION in names]
    assert holders == ["administrator"]


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_the_upload_page_script_shows_why_the_api_refused_a_file(browser, live_server, role_user, tmp_path):
    """upload.js sends each file to the API on its own: a 400 in words is shown as the file's refusal."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.collections_app.test_upload_browser import _drop, _rows

    source_get_or_create(name="Events portal")
    (tmp_path / "one.jpg").write_bytes(encode(scene(43)))
    (tmp_path / "meta.csv").write_bytes(b'filename,title\none.jpg,"' + b"x" * 200_000 + b'"\n')
    role_user("uploader", "librarian")
    browser_sign_in(browser, live_server.url, "librarian")
    browser.get(f"{live_server.url}/upload/")
    Select(browser.find_element(By.NAME, "source")).select_by_visible_text("Events portal")
    _drop(browser, [tmp_path / "one.jpg", tmp_path / "meta.csv"])
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "upload-progress").get_attribute("data-finished") == "true"
    )
    rows = _rows(browser, "#file-rows tr", 0)
    assert rows["one.jpg"].get_attribute("data-result") == "created"
    assert rows["meta.csv"].get_attribute("data-result") == "refused"
    assert "meta.csv: Line 2 of the CSV has a value longer than 131072 characters" in rows["meta.csv"].text
    assert not rows["meta.csv"].find_elements(By.TAG_NAME, "button")  # no Retry: sending it again cannot help


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=2)
def test_more_files_than_one_request_may_carry_are_answered_in_words_on_the_page_and_the_api(client, role_user):
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")

    def files():
        return [SimpleUploadedFile(f"{n}.jpg", encode(scene(n))) for n in range(3)]

    page = client.post(reverse("upload"), {"source": source.pk, "files": files()})
    assert page.status_code == 400
    assert "More than 2 files were sent at once; nothing was stored." in page.content.decode()
    api = client.post(reverse("api-uploads"), {"source": source.pk, "files": files()})
    assert api.status_code == 400 and api.json()["detail"].startswith("More than 2 files were sent at once")
    assert not IngestBatch.objects.exists() and not Version.objects.exists()
