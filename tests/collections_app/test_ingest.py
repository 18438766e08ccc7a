"""Ingest from folders and uploads: stored once, bad input reported, never lost."""

import io
import os
import signal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from collections_app.failures import skipped_reason
from collections_app.models import AuditEvent, IngestBatch, Version
from collections_app.services import source_get_or_create, version_ingest
from tests.factories import SourceFactory
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _folder(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.jpg").write_bytes(encode(scene(1)))
    (tmp_path / "sub" / "b.png").write_bytes(encode(scene(2), "PNG"))
    (tmp_path / "sub" / "deeper" / "c.jpg").write_bytes(encode(scene(3)))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "broken.jpg").write_bytes(encode(scene(4))[:3000])
    return tmp_path


def test_ingest_command_records_relative_paths_and_skips_non_images(tmp_path, capsys):
    call_command("ingest", str(_folder(tmp_path)), source="Photo Unit")
    out = capsys.readouterr().out
    paths = set(Version.objects.values_list("original_path", flat=True))
    assert paths == {"a.jpg", "sub/b.png", "sub/deeper/c.jpg", "broken.jpg"}
    assert "skipped notes.txt: Not an image" in out
    assert "skipped empty.jpg: The file is empty." in out
    assert "Created 4 versions" in out


def test_ingest_command_run_twice_creates_nothing_twice(tmp_path, capsys):
    folder = _folder(tmp_path)
    call_command("ingest", str(folder), source="Photo Unit")
    call_command("ingest", str(folder), source="Photo Unit")
    assert Version.objects.count() == 4
    assert "Created 0 versions, 4 already ingested" in capsys.readouterr().out


def test_a_changed_file_at_the_same_path_is_a_new_version(tmp_path):
    folder = _folder(tmp_path)
    call_command("ingest", str(folder), source="Photo Unit")
    (folder / "a.jpg").write_bytes(encode(scene(9)))
    call_command("ingest", str(folder), source="Photo Unit")
    assert Version.objects.filter(original_path="a.jpg").count() == 2


@pytest.mark.django_db(transaction=True)
def test_ingest_inline_processes_and_reports_failures(tmp_path, capsys):
    call_command("ingest", str(_folder(tmp_path)), source="Photo Unit", inline=True)
    out = capsys.readouterr().out
    assert "Processed: 3 done, 1 failed." in out
    assert "failed broken.jpg:" in out
    broken = Version.objects.get(original_path="broken.jpg")
    assert broken.status == Version.Status.FAILED
    assert "truncated" in broken.error_text.lower() or "corrupt" in broken.error_text.lower()
    good = Version.objects.get(original_path="sub/b.png")
    assert (good.format, good.width, good.height, good.status) == ("PNG", 640, 480, "done")


def test_unreadable_file_is_reported_not_fatal(tmp_path, capsys):
    folder = _folder(tmp_path)
    locked = folder / "locked.jpg"
    locked.write_bytes(encode(scene(5)))
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as a user who can read any file")
    call_command("ingest", str(folder), source="Photo Unit")
    assert "skipped locked.jpg: could not be read" in capsys.readouterr().out


def test_ingest_writes_an_audit_event_per_version(tmp_path):
    call_command("ingest", str(_folder(tmp_path)), source="Photo Unit")
    assert AuditEvent.objects.filter(action="version.ingest").count() == 4


def test_same_file_from_two_sources_is_stored_twice():
    data = encode(scene(7))
    for name in ("Library", "Museum"):
        outcome = version_ingest(
            fileobj=io.BytesIO(data),
            original_filename="x.jpg",
            original_path="x.jpg",
            source=source_get_or_create(name=name),
        )
        assert outcome.created
    assert Version.objects.filter(sha256=Version.objects.first().sha256).count() == 2


def test_upload_page_stores_images_and_refuses_other_files(client, uploader):
    source = SourceFactory()
    client.force_login(uploader)
    files = [
        _upload("one.jpg", encode(scene(1))),
        _upload("two.png", encode(scene(2), "PNG")),
        _upload("page.html", b"<html><script>alert(1)</script></html>"),
    ]
    response = client.post(reverse("upload"), {"source": source.pk, "files": files}, follow=True)
    assert response.status_code == 200
    assert sorted(Version.objects.values_list("original_filename", flat=True)) == ["one.jpg", "two.png"]
    assert Version.objects.filter(uploader=uploader).count() == 2
    assert "page.html was not stored" in response.content.decode()


def test_upload_page_needs_permission(client, make_user):
    client.force_login(make_user("visitor"))
    assert client.get(reverse("upload")).status_code == 403


def test_files_are_only_streamed_to_signed_in_users_with_permission(client, uploader):
    outcome = version_ingest(
        fileobj=io.BytesIO(encode(scene(3))), original_filename="x.jpg", source=source_get_or_create(name="S")
    )
    url = reverse("version-file", args=[outcome.version.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(uploader)
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == encode(scene(3))


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


class StillReading(Exception):
    """Not an OSError, which ingest would report as an unreadable file and carry on."""


@pytest.fixture
def alarm():
    """Fails the test instead of hanging it: reading a pipe or /dev/zero never ends on its own."""

    def expire(signum, frame):
        raise StillReading("ingest was still reading after 20 seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_ingest_skips_pipes_devices_and_links_with_a_reason_and_reads_nothing_outside_the_folder(
    tmp_path_factory, capsys, alarm
):
    folder = _folder(tmp_path_factory.mktemp("folder"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "secret.jpg").write_bytes(encode(scene(11)))
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    (folder / "outside.jpg").symlink_to(elsewhere / "secret.jpg")
    (folder / "outside-folder").symlink_to(elsewhere, target_is_directory=True)
    (folder / "sub" / "again.jpg").symlink_to(folder / "a.jpg")

    call_command("ingest", str(folder), source="Photo Unit")

    out = capsys.readouterr().out
    assert set(Version.objects.values_list("original_path", flat=True)) == {
        "a.jpg",
        "sub/b.png",
        "sub/deeper/c.jpg",
        "broken.jpg",
    }
    assert "skipped pipe.jpg: A named pipe, not a file; not read." in out
    assert "skipped zero.jpg: A symbolic link to /dev/zero, outside the folder; links are not followed." in out
    assert f"skipped outside.jpg: A symbolic link to {elsewhere / 'secret.jpg'}, outside the folder" in out
    assert f"skipped outside-folder: A symbolic link to {elsewhere}, outside the folder" in out
    assert "skipped sub/again.jpg: A symbolic link to" in out and "ingested under its own path" in out
    stored = {row["path"]: row for row in IngestBatch.objects.get().skipped}
    assert {"pipe.jpg", "zero.jpg", "outside.jpg", "outside-folder", "sub/again.jpg"} <= set(stored)
    # Kept as codes with parameters, worded for each reader when shown.
    assert stored["pipe.jpg"] == {"path": "pipe.jpg", "code": "named_pipe", "params": {}}
    assert stored["zero.jpg"] == {"path": "zero.jpg", "code": "link_outside", "params": {"target": "/dev/zero"}}
    assert stored["sub/again.jpg"]["code"] == "link_inside" and "reason" not in stored["sub/again.jpg"]
    assert skipped_reason(stored["pipe.jpg"]) == "A named pipe, not a file; not read."


@override_settings(DUPFINDER_MAX_UPLOAD_BYTES=2 * 1024 * 1024)
def test_ingest_skips_a_file_over_the_upload_limit_without_reading_it(tmp_path, capsys, alarm):
    """64 GB of holes would take minutes to read; the size alone is enough to skip it."""
    with open(tmp_path / "huge.tif", "wb") as handle:
        handle.truncate(64 * 1024**3)
    (tmp_path / "small.jpg").write_bytes(encode(scene(12)))
    call_command("ingest", str(tmp_path), source="Photo Unit")
    out = capsys.readouterr().out
    assert "skipped huge.tif: The file is larger than the limit of 2 MB." in out
    assert list(Version.objects.values_list("original_path", flat=True)) == ["small.jpg"]


def test_a_file_is_never_read_past_the_size_it_had_when_opened(tmp_path):
    from collections_app.management.commands.ingest import FileGrew, _open_inside

    data = encode(scene(13))
    (tmp_path / "growing.jpg").write_bytes(data)
    root_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with _open_inside(tmp_path, root_fd, "growing.jpg") as handle:
            with open(tmp_path / "growing.jpg", "ab") as writer:
                writer.write(b"\0" * 10_000_000)
            assert len(handle.read(len(data) // 2)) == len(data) // 2
            assert handle.seek(0, io.SEEK_END) == len(data)  # the size it had, not the size it has
            handle.seek(0)
            with pytest.raises(FileGrew, match="grew while it was read"):
                handle.read()
    finally:
        os.close(root_fd)
