"""Every endpoint answers 401 to strangers, 403 to roles without the permission and 200 to those with it."""

import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from collections_app.models import AuditEvent, ImportedMetadata, IngestBatch, Item, SidecarRow, Version
from collections_app.services import source_get_or_create
from dedup.imaging.errors import Failure, FingerprintError
from dedup.models import Cluster
from dedup.review import services as review_services
from dedup.services import version_mark_failed
from tests.images import encode, scene, zip_of

pytestmark = pytest.mark.django_db

READS = [
    ("/api/v1/sources/", "viewer"),
    ("/api/v1/items/", "viewer"),
    ("/api/v1/versions/", "viewer"),
    ("/api/v1/batches/", "viewer"),
    ("/api/v1/clusters/", "curator"),
]


@pytest.mark.parametrize(("url", "role"), READS)
def test_reads_need_a_token_and_the_role(api_as, url, role):
    assert api_as(None).get(url).status_code == 401
    if role == "curator":
        assert api_as("uploader").get(url).status_code == 403
    response = api_as(role).get(url)
    assert response.status_code == 200
    assert set(response.json()) >= {"count", "results"}


def test_session_login_works_for_the_browser(client, role_user):
    role_user("viewer")
    client.login(username="viewer", password="pw-for-tests-1")
    assert client.get("/api/v1/items/").status_code == 200


def test_token_is_issued_for_a_username_and_password_with_its_expiry(api_as, role_user):
    role_user("uploader")
    response = api_as(None).post("/api/v1/token/", {"username": "uploader", "password": "pw-for-tests-1"})
    assert response.status_code == 200 and response.json()["token"] and response.json()["expiry"]
    client = api_as(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/versions/").status_code == 200


def test_sources_are_added_by_administrators_only(api_as):
    assert api_as("uploader").post("/api/v1/sources/", {"name": "Portal"}).status_code == 403
    response = api_as("administrator").post("/api/v1/sources/", {"name": "Portal", "kind": "portal"})
    assert response.status_code == 201 and response.json()["name"] == "Portal"


def test_version_detail_shows_status_and_fingerprint_hashes(api_as, add_version):
    version = add_version("a.jpg", encode(scene(1)))
    body = api_as("viewer").get(f"/api/v1/versions/{version.pk}/").json()
    assert body["status"] == "done" and body["sha256"] == version.sha256
    assert len(body["fingerprint"]["phash"]) == 16 and len(body["fingerprint"]["phash_dihedral"]) == 8
    assert api_as("viewer").get("/api/v1/versions/", {"status": "failed"}).json()["count"] == 0
    item = api_as("viewer").get(f"/api/v1/items/{version.item_id}/").json()
    assert item["authoritative_version"] == version.pk


@pytest.fixture
def pair(add_version):
    picture = scene(7)
    a = add_version("a.jpg", encode(picture, quality=92))
    b = add_version("b.png", encode(picture.resize((320, 240)), "PNG"), source="Archive")
    return Cluster.objects.get(members__version=a), a, b


def test_cluster_actions_need_change_permission(api_as, pair):
    cluster, a, _b = pair
    url = f"/api/v1/clusters/{cluster.pk}/"
    assert api_as("viewer").get(url).status_code == 403
    for action in ("merge", "split", "not-duplicates", "skip", "undo"):
        assert api_as(None).post(f"{url}{action}/", {}).status_code == 401
        assert api_as("viewer").post(f"{url}{action}/", {}).status_code == 403


def test_merge_then_undo_through_the_api_uses_the_review_services(api_as, pair):
    cluster, a, b = pair
    curator = api_as("curator")
    listed = curator.get("/api/v1/clusters/", {"status": "open"}).json()
    assert [c["id"] for c in listed["results"]] == [cluster.pk]
    token = listed["results"][0]["token"]
    response = curator.post(
        f"/api/v1/clusters/{cluster.pk}/merge/", {"authoritative": b.pk, "token": token, "reason": "PNG"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved"
    assert Item.objects.get(pk=a.item_id).merged_into_id == b.item_id
    stale = curator.post(f"/api/v1/clusters/{cluster.pk}/undo/", {"token": token}, format="json")
    assert stale.status_code == 409
    undone = curator.post(f"/api/v1/clusters/{cluster.pk}/undo/", {}, format="json")
    assert undone.json()["status"] == "open"
    assert Item.objects.get(pk=a.item_id).merged_into_id is None


def test_a_merged_away_item_redirects_to_the_surviving_one_by_id_and_by_identifier(api_as, pair):
    cluster, a, b = pair
    Item.objects.filter(pk=a.item_id).update(identifier="HKMH/1987/001")
    review_services.cluster_merge(cluster_id=cluster.pk, actor=None, authoritative_id=b.pk)
    viewer = api_as("viewer")
    by_id = viewer.get(f"/api/v1/items/{a.item_id}/")
    by_identifier = viewer.get("/api/v1/items/by-identifier/HKMH/1987/001/")
    assert by_id.status_code == by_identifier.status_code == 302
    assert by_id["Location"] == by_identifier["Location"] == f"/api/v1/items/{b.item_id}/"
    assert viewer.get(by_id["Location"]).json()["id"] == b.item_id
    assert viewer.get("/api/v1/items/by-identifier/nothing-like-it/").status_code == 404
    assert api_as(None).get("/api/v1/items/by-identifier/HKMH/1987/001/").status_code == 401


def test_split_skip_and_not_duplicates(api_as, pair):
    cluster, a, b = pair
    curator = api_as("curator")
    assert curator.post(f"/api/v1/clusters/{cluster.pk}/skip/").status_code == 200
    assert curator.get("/api/v1/clusters/").json()["count"] == 0  # skipped leaves the default queue
    bad = curator.post(f"/api/v1/clusters/{cluster.pk}/split/", {"version": 999999}, format="json")
    assert bad.status_code == 400
    response = curator.post(f"/api/v1/clusters/{cluster.pk}/not-duplicates/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    merge = curator.post(f"/api/v1/clusters/{cluster.pk}/merge/", {"authoritative": a.pk}, format="json")
    assert merge.status_code == 409


def test_merge_refuses_unknown_fields(api_as, pair):
    cluster, a, _b = pair
    response = api_as("curator").post(
        f"/api/v1/clusters/{cluster.pk}/merge/", {"authoritative": a.pk, "custom": {"owner": "x"}}, format="json"
    )
    assert response.status_code == 400


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_batches_are_created_by_uploaders_and_show_counts(api_as):
    source = source_get_or_create(name="Photo Unit")
    assert api_as("viewer").post("/api/v1/batches/", {"source": source.pk}).status_code == 403
    response = api_as("uploader").post("/api/v1/batches/", {"source": source.pk, "label": "Gala"}, format="json")
    assert response.status_code == 201
    assert response.json()["total"] == 0
    detail = api_as("viewer").get(f"/api/v1/batches/{response.json()['id']}/").json()
    assert detail["label"] == "Gala" and detail["sidecar_rows"] == []


def test_upload_of_many_files_with_metadata(api_as):
    source = source_get_or_create(name="Photo Unit")
    csv = "filename,title,title_zh,subject,identifier\none.jpg,Gala,晚會,events; people,HK-1\nghost.jpg,Nobody,,,\n"
    uploader = api_as("uploader")
    response = uploader.post(
        "/api/v1/uploads/",
        {
            "source": source.pk,
            "files": [_file("one.jpg", encode(scene(1))), _file("two.png", encode(scene(2), "PNG"))],
            "metadata": _file("meta.csv", csv.encode()),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [f["status"] for f in body["files"]] == ["created", "created"]
    item = Item.objects.get(identifier="HK-1")
    assert (item.title, item.title_zh, item.subjects) == ("Gala", "晚會", ["events", "people"])
    assert ImportedMetadata.objects.get(origin="sidecar").data["title"] == "Gala"
    rows = {r.filename: r.outcome for r in SidecarRow.objects.filter(batch_id=body["batch"])}
    assert rows == {"one.jpg": "applied", "ghost.jpg": "unmatched"}
    assert api_as("viewer").post("/api/v1/uploads/", {"source": source.pk}).status_code == 403
    assert api_as(None).post("/api/v1/uploads/", {"source": source.pk}).status_code == 401


def test_a_file_sent_again_is_reported_already_in_the_collection(api_as, django_capture_on_commit_callbacks):
    source = source_get_or_create(name="Photo Unit")
    data = encode(scene(3))
    with django_capture_on_commit_callbacks(execute=True):  # processed at once (tasks run eagerly)
        first = api_as("uploader").post("/api/v1/uploads/", {"source": source.pk, "files": [_file("a.jpg", data)]})
    assert first.json()["files"][0]["status"] == "created"
    other = source_get_or_create(name="Portal")
    again = api_as("curator").post("/api/v1/uploads/", {"source": other.pk, "files": [_file("copy.jpg", data)]})
    already = again.json()["files"][0]["already_in_collection"]
    assert already["uploader"] == "uploader" and already["version"] == first.json()["files"][0]["version"]


def test_resending_into_the_same_batch_stores_nothing_twice(api_as):
    source = source_get_or_create(name="Photo Unit")
    uploader = api_as("uploader")
    batch = uploader.post("/api/v1/batches/", {"source": source.pk}, format="json").json()["id"]
    for _n in range(2):
        uploader.post(
            "/api/v1/uploads/", {"batch": batch, "files": [_file("a.jpg", encode(scene(4)))], "paths": ["ev/a.jpg"]}
        )
    assert Version.objects.filter(batch_id=batch).count() == 1
    assert IngestBatch.objects.get(pk=batch).skipped == []


def _sendzip_of(api_as, data: bytes):
    source = source_get_or_create(name="Photo Unit")
    response = api_as("uploader").post("/api/v1/uploads/", {"source": source.pk, "files": [_file("event.zip", data)]})
    assert response.status_code == 201
    return response.json()["files"]


def test_a_zip_is_extracted_with_its_sidecar_csv(api_as):
    files = _sendzip_of(
        api_as,
        zip_of(
            {"day1/a.jpg": encode(scene(1)), "day1/b.jpg": encode(scene(2)), "meta.csv": b"filename,title\na.jpg,A\n"}
        ),
    )
    assert [f["status"] for f in files] == ["created", "created", "sidecar"]
    assert Version.objects.get(original_path="event/day1/a.jpg").item.title == "A"


def test_zip_slip_is_refused_before_extraction(api_as):
    files = _sendzip_of(api_as, zip_of({"ok.jpg": encode(scene(1)), "../../etc/evil.jpg": encode(scene(2))}))
    assert files[0]["status"] == "refused" and "outside the archive" in files[0]["message"]
    assert Version.objects.count() == 0


def test_zip_bomb_ratio_is_refused(api_as):
    files = _sendzip_of(api_as, zip_of({"flat.bmp": b"\0" * (20 * 1024 * 1024)}))
    assert files[0]["status"] == "refused" and "zip bomb" in files[0]["message"]


@override_settings(DUPFINDER_ZIP_MAX_ENTRIES=3)
def test_zip_with_too_many_entries_is_refused(api_as):
    files = _sendzip_of(api_as, zip_of({f"{n}.jpg": encode(scene(n)) for n in range(4)}))
    assert "more than the limit of 3" in files[0]["message"]
    assert IngestBatch.objects.get().skipped[0]["path"] == "event.zip"


@override_settings(DUPFINDER_MAX_UPLOAD_BYTES=1000)
def test_files_over_the_limit_are_refused_before_storing(api_as):
    source = source_get_or_create(name="Photo Unit")
    big = encode(scene(1), "PNG")
    response = api_as("uploader").post("/api/v1/uploads/", {"source": source.pk, "files": [_file("big.png", big)]})
    assert response.json()["files"][0]["status"] == "refused"
    files = _sendzip_of(api_as, zip_of({"big.png": big}, zipfile.ZIP_STORED))
    assert "larger than the limit" in files[0]["message"]
    assert Version.objects.count() == 0


def test_verify_endpoint_keeps_its_path(client, role_user):
    role_user("viewer")
    client.login(username="viewer", password="pw-for-tests-1")
    response = client.post("/api/v1/verify/", {})
    assert response.status_code == 400 and "file" in response.json()["error"]


def test_schema_and_docs_are_served_without_a_cdn(client, role_user):
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    role_user("viewer")
    client.login(username="viewer", password="pw-for-tests-1")
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/clusters/{id}/merge/" in schema["paths"] and "/api/v1/uploads/" in schema["paths"]
    assert "/api/v1/verify/" in schema["paths"]
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()


def test_a_failed_version_is_retried_through_the_api_without_resending_it(api_as, django_capture_on_commit_callbacks):
    source = source_get_or_create(name="Photo Unit")
    sent = api_as("uploader").post(
        "/api/v1/uploads/", {"source": source.pk, "files": [_file("a.jpg", encode(scene(5)))]}
    )
    version_id = sent.json()["files"][0]["version"]
    version_mark_failed(version_id=version_id, failure=FingerprintError(Failure.TIMED_OUT))
    url = f"/api/v1/versions/{version_id}/retry/"
    assert api_as(None).post(url).status_code == 401
    assert api_as("viewer").post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):  # processed after the answer (tasks run eagerly)
        response = api_as("uploader").post(url)
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert Version.objects.get(pk=version_id).status == "done"
    assert AuditEvent.objects.filter(action="version.retry", target_id=str(version_id)).count() == 1
    assert api_as("uploader").post(url).status_code == 409  # only a failed version is retried


def test_a_sidecar_over_the_csv_field_limit_is_a_400_with_its_line_and_the_upload_stores_nothing(api_as):
    source = source_get_or_create(name="Photo Unit")
    huge = b'filename,title\none.jpg,"' + b"x" * 200_000 + b'"\n'
    response = api_as("uploader").post(
        "/api/v1/uploads/",
        {"source": source.pk, "files": [_file("one.jpg", encode(scene(1)))], "metadata": _file("meta.csv", huge)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {
        "metadata": ["Line 2 of the CSV has a value longer than 131072 characters; shorten it and send the CSV again."]
    }
    as_a_file = api_as("uploader").post(
        "/api/v1/uploads/",
        {"source": source.pk, "files": [_file("one.jpg", encode(scene(1))), _file("meta.csv", huge)]},
        format="multipart",
    )
    assert as_a_file.status_code == 400 and as_a_file.json()["files"][0].startswith("meta.csv: Line 2 of the CSV")
    assert not IngestBatch.objects.exists() and not Version.objects.exists()


def test_the_batch_sidecar_endpoint_answers_an_unreadable_csv_with_400_and_its_line(api_as):
    source = source_get_or_create(name="Photo Unit")
    uploader = api_as("uploader")
    batch = uploader.post("/api/v1/batches/", {"source": source.pk}, format="json").json()["id"]
    huge = b'filename,title\na.jpg,A\nb.jpg,"' + b"x" * 200_000 + b'"\n'
    response = uploader.post(f"/api/v1/batches/{batch}/sidecar/", {"file": _file("m.csv", huge)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Line 3 of the CSV has a value longer than 131072 characters")
    assert not SidecarRow.objects.exists()


def test_an_empty_file_sent_to_the_api_is_refused_by_name_with_a_reason(api_as):
    source = source_get_or_create(name="Photo Unit")
    response = api_as("uploader").post(
        "/api/v1/uploads/",
        {"source": source.pk, "files": [_file("empty.jpg", b""), _file("one.jpg", encode(scene(1)))]},
        format="multipart",
    )
    assert response.status_code == 201
    empty, stored = response.json()["files"]
    assert (empty["path"], empty["status"], empty["message"]) == ("empty.jpg", "refused", "The file is empty.")
    assert stored["status"] == "created"


def test_only_the_batchs_creator_or_an_administrator_may_upload_into_it_or_attach_a_sidecar(api_as):
    source = source_get_or_create(name="Photo Unit")
    batch = api_as("uploader").post("/api/v1/batches/", {"source": source.pk}, format="json").json()["id"]
    message = (
        f"Batch {batch} was started by someone else: only they or an administrator can add files to it. "
        "Start a new upload to make a batch of your own."
    )

    def send(role: str, seed: int):
        files = {"batch": batch, "files": [_file(f"{seed}.jpg", encode(scene(seed)))]}
        return api_as(role).post("/api/v1/uploads/", files, format="multipart")

    refused = send("curator", 1)  # may upload, but did not start this batch
    assert refused.status_code == 403 and refused.json() == {"detail": message}
    sidecar = api_as("curator").post(
        f"/api/v1/batches/{batch}/sidecar/", {"file": _file("m.csv", b"filename,title\n1.jpg,X\n")}, format="multipart"
    )
    assert sidecar.status_code == 403 and sidecar.json() == {"detail": message}
    assert not Version.objects.exists() and not SidecarRow.objects.exists()

    assert send("uploader", 2).status_code == 201
    assert send("administrator", 3).status_code == 201
    assert sorted(Version.objects.filter(batch_id=batch).values_list("original_filename", flat=True)) == [
        "2.jpg",
        "3.jpg",
    ]
