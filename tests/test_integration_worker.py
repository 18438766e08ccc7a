"""A real worker process takes an upload through Redis into PostgreSQL."""

import pytest
from django.urls import reverse

from collections_app.models import Source, Version
from tests.conftest import wait_until
from tests.images import encode, scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_uploaded_image_is_processed_by_a_real_worker(client, uploader, live_worker):
    source = Source.objects.create(name="Events portal")
    client.force_login(uploader)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("upload"),
        {"source": source.pk, "files": [SimpleUploadedFile("p.jpg", encode(scene(11), quality=90))]},
    )
    version = Version.objects.get()
    wait_until(lambda: Version.objects.get(pk=version.pk).status in ("done", "failed"), timeout=60)
    version.refresh_from_db()
    assert version.status == "done", version.error
    assert (version.format, version.width, version.height) == ("JPEG", 640, 480)
    assert version.fingerprint.thumb_small
