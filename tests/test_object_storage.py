"""DJANGO_STORAGE=s3: upload, processing, serving, reclamation and restore against a real S3 server on loopback."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from collections_app.models import Version
from config.storage import storages_setting
from reports.services import version_reclaim, version_restore
from tests.conftest import start_worker, stop_worker, wait_until
from tests.dedup.conftest import add_version  # noqa: F401
from tests.dedup.review.conftest import cluster3  # noqa: F401
from tests.images import encode, scene
from tests.reports.conftest import collection  # noqa: F401

pytestmark = pytest.mark.django_db


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_upload_is_stored_in_the_bucket_processed_from_it_and_served_from_it(
    client, role_user, s3, settings, django_capture_on_commit_callbacks
):
    settings.DUPFINDER_SENDFILE_HEADER = "X-Accel-Redirect"  # nginx cannot reach a bucket: Django streams instead
    data = encode(scene(41), quality=90)
    client.force_login(role_user("uploader"))
    from collections_app.services import source_get_or_create

    source = source_get_or_create(name="Events portal")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("upload"), {"source": source.pk, "files": [SimpleUploadedFile("one.jpg", data)]})
    assert response.status_code in (200, 302)
    version = Version.objects.get()
    assert version.status == Version.Status.DONE, version.error_text  # tasks run eagerly here
    assert s3.keys("media/originals/") == [f"media/{version.file.name}"]
    assert s3.read(f"media/{version.file.name}") == data
    # A JPEG photo is fingerprinted from a reduced decode: its preview is made in the bucket when first shown.
    assert s3.keys("media/thumbs/") == [f"media/{version.fingerprint.thumb_small}"]
    preview = client.get(reverse("version-thumbnail", args=[version.pk, "preview"]))
    assert preview.status_code == 200 and _body(preview)[:2] == b"\xff\xd8"
    version.fingerprint.refresh_from_db()
    thumbs = s3.keys("media/thumbs/")
    assert thumbs == sorted([f"media/{version.fingerprint.thumb_small}", f"media/{version.fingerprint.thumb_preview}"])

    served = client.get(reverse("version-file", args=[version.pk]))
    assert served.status_code == 200 and "X-Accel-Redirect" not in served
    assert _body(served) == data
    thumb = client.get(reverse("version-thumbnail", args=[version.pk, "small"]))
    assert thumb.status_code == 200 and _body(thumb)[:2] == b"\xff\xd8"


def test_processing_twice_replaces_the_thumbnails_in_the_bucket_rather_than_adding_copies(add_version, s3):  # noqa: F811
    from dedup.services import version_process

    version = add_version("photo/a.png", encode(scene(42), "PNG"))  # a PNG stores both thumbnails at once
    before = s3.keys("media/thumbs/")
    Version.objects.filter(pk=version.pk).update(status=Version.Status.PENDING)
    version_process(version_id=version.pk)
    assert s3.keys("media/thumbs/") == before and len(before) == 2


def test_reclaim_moves_the_file_to_the_quarantine_prefix_and_restore_brings_it_back_byte_for_byte(
    s3,
    collection,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    a = collection["a"]
    key = f"media/{a.file.name}"
    original = s3.read(key)
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    a.refresh_from_db()
    assert key not in s3.keys("media/")
    assert s3.keys("quarantine/") == [f"quarantine/{a.quarantine_name}"]
    assert _sha(s3.read(f"quarantine/{a.quarantine_name}")) == a.sha256
    with django_capture_on_commit_callbacks(execute=True):
        version_restore(version_id=a.pk, actor="ops")
    a.refresh_from_db()
    assert s3.keys("quarantine/") == []
    assert s3.read(f"media/{a.file.name}") == original and _sha(original) == a.sha256


def test_the_reclaim_and_restore_commands_work_on_object_storage(
    s3,
    collection,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    originals = set(s3.keys("media/originals/"))
    err = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reclaim_storage", stderr=err)
    assert "Reclaiming: 2/2 files (100%)" in err.getvalue()  # progress, in plain lines when not a terminal
    moved = list(Version.objects.filter(quarantined_at__isnull=False))
    assert {v.pk for v in moved} == {collection["a"].pk, collection["c"].pk}
    assert s3.keys("quarantine/") == sorted(f"quarantine/{v.quarantine_name}" for v in moved)
    assert set(s3.keys("media/originals/")) == originals - {f"media/{v.file.name}" for v in moved}
    with django_capture_on_commit_callbacks(execute=True):
        call_command("restore_version", *[str(v.pk) for v in moved])
    assert s3.keys("quarantine/") == []
    assert set(s3.keys("media/originals/")) == originals


def test_a_bucket_that_cannot_be_reached_answers_an_upload_with_503_and_stores_nothing(client, role_user, s3, settings):
    from collections_app.services import source_get_or_create

    options = settings.STORAGES
    settings.STORAGES = storages_setting(
        backend="s3",
        quarantine_root=options["quarantine"].get("OPTIONS", {}).get("location", ""),
        staticfiles=options["staticfiles"]["BACKEND"],
        bucket=f"{s3.name}-missing",  # a bucket that does not exist: the server refuses every write
        endpoint_url=s3.endpoint,
        addressing="path",
    )
    client.force_login(role_user("uploader"))
    source = source_get_or_create(name="Events portal")
    data = encode(scene(43), quality=90)
    response = client.post(reverse("upload"), {"source": source.pk, "files": [SimpleUploadedFile("one.jpg", data)]})
    assert response.status_code == 503
    assert "The file store cannot be written to just now" in response.content.decode()
    assert not Version.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_a_worker_process_reads_and_writes_only_the_bucket(s3, live_broker):
    """The worker's MEDIA_ROOT is an empty folder of its own: it can only find the file through the bucket."""
    from collections_app.services import source_get_or_create, version_ingest

    worker = start_worker("--pool=solo")
    try:
        data = encode(scene(44), quality=90)
        source = source_get_or_create(name="Library")
        version = version_ingest(
            fileobj=io.BytesIO(data), original_filename="w.jpg", original_path="w.jpg", source=source
        ).version
        wait_until(lambda: Version.objects.get(pk=version.pk).status in ("done", "failed"), timeout=60)
    finally:
        stop_worker(worker)
    version.refresh_from_db()
    assert version.status == Version.Status.DONE, version.error_text
    assert len(s3.keys("media/thumbs/")) == 2
