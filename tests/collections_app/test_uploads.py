"""Bulk upload batches: the batch page as it fills in, already-held files, retrying a failed file, resuming."""

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

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
from tests.conftest import store_file
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
    assert "uploaded by archivist on 05/03/2024 10:00 from Photo Unit" in row


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


def test_a_batch_cut_off_half_way_keeps_what_arrived_and_a_resend_stores_only_the_rest(client, role_user, batch):
    """upload.js sends one request per file, so each answered file is committed whatever happens to the others."""
    client.force_login(role_user("uploader"))
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


def test_the_upload_page_without_javascript_stores_the_files_and_applies_the_sidecar_like_the_api(
    client, role_user
):
    client.force_login(role_user("uploader"))
    response = _post_upload(client, b"filename,title,identifier\none.jpg,Gala dinner,HK-GALA-1\n")
    batch = IngestBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("batch-detail", args=[batch.pk])
    assert batch.versions.count() == 2
    assert Item.objects.get(identifier="HK-GALA-1").title == "Gala dinner"


def test_a_sidecar_that_cannot_be_read_is_refused_on_the_form_before_anything_is_stored(client, role_user):
    client.force_login(role_user("uploader"))
    response = _post_upload(client, b"name,title\none.jpg,Gala\n")
    assert response.status_code == 200
    assert "column named filename" in " ".join(response.context["form"].errors["metadata"])
    assert not IngestBatch.objects.exists() and not Version.objects.exists()
