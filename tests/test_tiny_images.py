"""Images of one pixel, or one pixel wide, are stored, fingerprinted and matched on equal pixels only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from collections_app.models import Version
from tests.images import encode

pytestmark = pytest.mark.django_db


def _dot(colour) -> bytes:
    return encode(Image.new("RGB", (1, 1), colour), "PNG")


@pytest.mark.django_db(transaction=True)  # processing starts once each file's transaction commits
def test_ingest_inline_of_a_folder_of_one_pixel_images_processes_every_one(tmp_path):
    for n, colour in enumerate([(0, 0, 0), (255, 255, 255), (10, 200, 30)]):
        (tmp_path / f"dot{n}.png").write_bytes(_dot(colour))
    call_command("ingest", str(tmp_path), "--source", "Web", "--inline", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(Version.objects.values_list("status", "error_code")) == [("done", "")] * 3


def test_checking_a_one_pixel_wide_copy_answers_in_words(client, role_user):
    client.force_login(role_user("viewer"))
    strip = encode(Image.new("L", (1, 100_000), 128), "PNG")
    response = client.post(reverse("api-verify"), {"file": SimpleUploadedFile("strip.png", strip)})
    assert response.status_code == 200 and response.json()["matched"] is False
