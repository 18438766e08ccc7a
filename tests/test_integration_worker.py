"""A real worker process takes an upload through Redis into PostgreSQL."""

import pytest
from django.urls import reverse

from collections_app.models import Version
from tests.conftest import wait_until
from tests.factories import SourceFactory
from tests.images import encode, scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_uploaded_image_is_processed_by_a_real_worker(client, uploader, live_worker):
    source = SourceFactory()
    client.force_login(uploader)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("upload"),
        {"source": source.pk, "files": [SimpleUploadedFile("p.jpg", encode(scene(11), quality=90))]},
    )
    version = Version.objects.get()
    wait_until(lambda: Version.objects.get(pk=version.pk).status in ("done", "failed"), timeout=60)
    version.refresh_from_db()
    assert version.status == "done", version.error_text
    assert (version.format, version.width, version.height) == ("JPEG", 640, 480)
    assert version.fingerprint.thumb_small


def test_copies_finishing_together_on_two_workers_end_in_one_cluster(two_workers):
    from collections_app.services import source_get_or_create, version_ingest
    from dedup.models import ClusterMember

    source = source_get_or_create(name="Library")
    expected = []
    for n in range(4):
        picture = scene(100 + n, (900, 700))
        names = [f"{n}/a.jpg", f"{n}/b.jpg", f"{n}/c.png"]
        payloads = [encode(picture, quality=92), encode(picture.resize((450, 350)), quality=80), encode(picture, "PNG")]
        for name, data in zip(names, payloads, strict=False):
            import io

            version_ingest(fileobj=io.BytesIO(data), original_filename=name, original_path=name, source=source)
        expected.append(sorted(names))
    wait_until(lambda: not Version.objects.exclude(status__in=["done", "failed"]).exists(), timeout=120)
    assert set(Version.objects.values_list("status", flat=True)) == {"done"}
    groups = {}
    for member in ClusterMember.objects.select_related("version"):
        groups.setdefault(member.cluster_id, set()).add(member.version.original_path)
    assert sorted(sorted(g) for g in groups.values()) == sorted(expected)
