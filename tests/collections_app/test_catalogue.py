"""Browsing and searching the catalogue: /items/, /versions/ and the same search on the API."""

from datetime import datetime

import pytest
from django.utils import timezone

from collections_app import search
from collections_app.models import Item
from tests.factories import ClusterMemberFactory, ItemFactory, SourceFactory, VersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    """Three items: a Chinese and English photograph, a scanned letter, and a map with no versions."""
    photos, letters = SourceFactory(name="Photo Unit"), SourceFactory(name="Public Records Office")
    pier = ItemFactory(
        identifier="HKM-2026-0001",
        title="Star Ferry piers at Central",
        title_zh="中環天星碼頭",
        creator="Information Services Department",
        subjects=["渡輪", "harbour"],
    )
    letter = ItemFactory(
        identifier="PRO-1962-0457", title="Letter on typhoon shelters", description="Signed by the governor."
    )
    plan = ItemFactory(identifier="LIB-1950-0003", title_zh="九龍街道圖")
    VersionFactory(item=pier, source=photos, original_filename="pier_scan_001.tif", format="TIFF", status="done")
    VersionFactory(item=pier, source=photos, original_filename="pier.jpg", format="JPEG", status="done")
    VersionFactory(item=letter, source=letters, original_filename="信件_掃描.png", format="PNG", status="failed")
    return {"pier": pier, "letter": letter, "plan": plan, "photos": photos}


def _found(text: str) -> set[str]:
    return set(search.items_search(queryset=Item.objects.all(), text=text).values_list("identifier", flat=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("碼頭", {"HKM-2026-0001"}),  # two Chinese characters: no trigram, the two-character index
        ("天星碼", {"HKM-2026-0001"}),  # three or more: the trigram index
        ("街道", {"LIB-1950-0003"}),
        ("1962-04", {"PRO-1962-0457"}),  # part of an identifier
        ("0003", {"LIB-1950-0003"}),
        ("pier", {"HKM-2026-0001"}),
        ("shelter", {"PRO-1962-0457"}),  # English full text, by stem: "shelters"
        ("governors", {"PRO-1962-0457"}),  # the description, by stem
        ("services department", {"HKM-2026-0001"}),  # the creator
        ("渡輪", {"HKM-2026-0001"}),  # a subject
        ("scan_001", {"HKM-2026-0001"}),  # an original file name
        ("掃描", {"PRO-1962-0457"}),  # a Chinese file name, two characters
        ("  ", {"HKM-2026-0001", "PRO-1962-0457", "LIB-1950-0003"}),
        ("香港", set()),
    ],
)
@pytest.mark.parametrize("match_list_limit", [1000, 0], ids=["listed", "tested row by row"])
def test_search_finds_items_by_any_part_of_their_fields_or_file_names(
    catalogue, text, expected, match_list_limit, monkeypatch
):
    monkeypatch.setattr(search, "MATCH_LIST_LIMIT", match_list_limit)
    assert _found(text) == expected


def test_wildcards_typed_in_a_search_match_only_themselves(catalogue):
    assert _found("%") == set()
    assert _found("_") == {"HKM-2026-0001", "PRO-1962-0457"}  # pier_scan_001.tif, 信件_掃描.png


def test_without_postgresql_the_same_fields_are_searched_with_icontains(catalogue, monkeypatch):
    class Elsewhere:
        vendor = "sqlite"

    monkeypatch.setattr(search, "connection", Elsewhere())
    assert _found("碼頭") == {"HKM-2026-0001"}
    assert _found("1962-04") == {"PRO-1962-0457"}
    assert _found("scan_001") == {"HKM-2026-0001"}


@pytest.mark.parametrize("match_list_limit", [1000, 0], ids=["listed", "tested row by row"])
def test_the_versions_search_finds_a_file_by_its_name_or_by_its_items_fields(catalogue, match_list_limit, monkeypatch):
    from collections_app.models import Version

    monkeypatch.setattr(search, "MATCH_LIST_LIMIT", match_list_limit)

    def names(text):
        found = search.versions_search(queryset=Version.objects.all(), text=text)
        return set(found.values_list("original_filename", flat=True))

    assert names("scan_0") == {"pier_scan_001.tif"}
    assert names("碼頭") == {"pier_scan_001.tif", "pier.jpg"}
    assert names("掃描") == {"信件_掃描.png"}


@pytest.fixture
def viewer_client(client, role_user):
    client.force_login(role_user("viewer"))
    return client


def _identifiers(response) -> list[str]:
    return [item.identifier for item in response.context["page"]]


def test_a_viewer_searches_the_catalogue_and_each_result_shows_its_thumbnail_and_version_count(
    viewer_client, catalogue
):
    pier = catalogue["pier"]
    chosen = pier.versions.get(original_filename="pier.jpg")
    Item.objects.filter(pk=pier.pk).update(authoritative_version=chosen)
    response = viewer_client.get("/items/", {"q": "碼頭"})
    assert response.status_code == 200
    assert _identifiers(response) == ["HKM-2026-0001"]
    html = response.content.decode()
    assert f"/versions/{chosen.pk}/thumb/small/" in html  # the authoritative version's thumbnail
    assert "2 versions" in html
    assert '<a href="/items/">Catalogue</a>' in html  # in the navigation


def test_without_an_authoritative_version_the_first_processed_one_stands_for_the_item(viewer_client, catalogue):
    first = catalogue["pier"].versions.order_by("pk").first()
    response = viewer_client.get("/items/", {"q": "HKM-2026", "layout": "list"})
    assert f"/versions/{first.pk}/thumb/small/" in response.content.decode()
    assert response.context["layout"] == "list"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"file_format": "PNG"}, ["PRO-1962-0457"]),
        ({"status": "failed"}, ["PRO-1962-0457"]),
        ({"authoritative": "true"}, ["HKM-2026-0001"]),
        ({"authoritative": "false"}, ["LIB-1950-0003", "PRO-1962-0457"]),
        ({"in_cluster": "true"}, ["HKM-2026-0001"]),
        ({"in_cluster": "false"}, ["LIB-1950-0003", "PRO-1962-0457"]),
        ({"legal_hold": "true"}, ["PRO-1962-0457"]),
        ({"uploaded_after": "2025-01-01"}, ["HKM-2026-0001"]),
        ({"uploaded_before": "2024-12-31"}, ["PRO-1962-0457"]),
        ({"sort": "identifier"}, ["HKM-2026-0001", "LIB-1950-0003", "PRO-1962-0457"]),
        ({"sort": "-identifier"}, ["PRO-1962-0457", "LIB-1950-0003", "HKM-2026-0001"]),
    ],
)
def test_the_catalogue_filters_and_sorts(viewer_client, catalogue, params, expected):
    pier, letter = catalogue["pier"], catalogue["letter"]
    Item.objects.filter(pk=pier.pk).update(authoritative_version=pier.versions.first())
    ClusterMemberFactory(version=pier.versions.first())
    letter.versions.update(legal_hold=True, uploaded_at=timezone.make_aware(datetime(2024, 6, 1)))
    response = viewer_client.get("/items/", {"sort": "identifier", **params})
    assert response.status_code == 200
    assert _identifiers(response) == expected


def test_the_source_filter_keeps_items_with_a_version_from_that_source(viewer_client, catalogue):
    response = viewer_client.get("/items/", {"source": catalogue["photos"].pk})
    assert _identifiers(response) == ["HKM-2026-0001"]


def test_a_filter_that_cannot_be_read_is_answered_in_words_and_the_search_is_kept(viewer_client, catalogue):
    response = viewer_client.get("/items/", {"q": "碼頭", "uploaded_after": "next tuesday"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid date." in html
    assert 'value="碼頭"' in html
    assert _identifiers(response) == ["HKM-2026-0001"]


def test_a_page_of_results_costs_the_same_few_queries_however_many_items_it_shows(
    viewer_client, django_assert_max_num_queries
):
    source = SourceFactory()
    for n in range(30):
        item = ItemFactory(title=f"Harbour view {n}")
        chosen = VersionFactory(item=item, source=source, status="done")
        VersionFactory(item=item, source=source, status="done")
        Item.objects.filter(pk=item.pk).update(authoritative_version=chosen)
    # Session, user, two for permissions, the source list of the filters, for each side of the search (the
    # item's fields, its versions' file names) the planner's estimate and the matches' ids, the count, the page.
    with django_assert_max_num_queries(11):
        response = viewer_client.get("/items/", {"q": "harbour"})
    assert len(response.context["page"]) == 24
    assert response.context["page"].paginator.count == 30


def test_past_the_match_limit_the_page_says_more_than_instead_of_counting(viewer_client, catalogue, monkeypatch):
    from collections_app import views

    monkeypatch.setattr(search, "COUNT_LIMIT", 1)
    monkeypatch.setattr(views, "COUNT_LIMIT", 1)
    response = viewer_client.get("/items/", {"sort": "identifier"})
    assert "More than 1 match: add words or filters to narrow them." in response.content.decode()
    assert _identifiers(response) == ["HKM-2026-0001", "LIB-1950-0003"]  # two counted, one more than the limit


def test_the_catalogue_needs_the_view_permission(client, make_user, catalogue):
    assert client.get("/items/").status_code == 302  # to sign in
    client.force_login(make_user("nobody"))
    assert client.get("/items/").status_code == 403
    assert client.get("/versions/").status_code == 403


def test_the_versions_list_searches_and_filters_each_file(viewer_client, catalogue):
    response = viewer_client.get("/versions/", {"q": "pier", "file_format": "TIFF"})
    assert response.status_code == 200
    assert [v.original_filename for v in response.context["page"]] == ["pier_scan_001.tif"]
    response = viewer_client.get("/versions/", {"status": "failed"})
    assert [v.original_filename for v in response.context["page"]] == ["信件_掃描.png"]


@pytest.fixture
def api_viewer(client, role_user):
    client.force_login(role_user("viewer"))
    return client


def test_the_api_searches_items_with_q_and_orders_them_with_ordering(api_viewer, catalogue):
    found = api_viewer.get("/api/v1/items/", {"q": "碼頭"}).json()
    assert [row["identifier"] for row in found["results"]] == ["HKM-2026-0001"]
    ordered = api_viewer.get("/api/v1/items/", {"ordering": "-identifier"}).json()
    assert [row["identifier"] for row in ordered["results"]] == ["PRO-1962-0457", "LIB-1950-0003", "HKM-2026-0001"]
    assert api_viewer.get("/api/v1/items/", {"q": "0457", "file_format": "PNG"}).json()["count"] == 1
    assert api_viewer.get("/api/v1/items/", {"q": "0457", "file_format": "JPEG"}).json()["count"] == 0


def test_the_api_filters_versions_as_the_page_does(api_viewer, catalogue):
    ClusterMemberFactory(version=catalogue["pier"].versions.get(original_filename="pier.jpg"))
    names = api_viewer.get("/api/v1/versions/", {"in_cluster": "true"}).json()["results"]
    assert [row["original_filename"] for row in names] == ["pier.jpg"]
    names = api_viewer.get("/api/v1/versions/", {"q": "掃描", "ordering": "original_filename"}).json()["results"]
    assert [row["original_filename"] for row in names] == ["信件_掃描.png"]
    refused = api_viewer.get("/api/v1/versions/", {"in_cluster": "maybe"})
    assert refused.status_code == 400


@pytest.fixture
def thirty_harbours():
    source = SourceFactory()
    for n in range(30):
        item = ItemFactory(title=f"Harbour view {n}", title_zh="維港")
        VersionFactory(item=item, source=source, status="done", original_filename=f"harbour_{n}.jpg")


# Session, user, two for permissions, the filters' source list, for each side of the search the planner's
# estimate and the matches' ids (the versions list: also the versions of the matching items), the count, the page.
@pytest.mark.parametrize("match_list_limit", [1000, 0], ids=["listed", "tested row by row"])
@pytest.mark.parametrize(("url", "most"), [("/items/", 11), ("/versions/", 13)])
@pytest.mark.parametrize("text", ["harbour", "維港"])
def test_a_search_of_either_list_costs_a_bounded_number_of_queries(
    viewer_client, thirty_harbours, django_assert_max_num_queries, monkeypatch, match_list_limit, url, most, text
):
    monkeypatch.setattr(search, "MATCH_LIST_LIMIT", match_list_limit)
    with django_assert_max_num_queries(most):
        response = viewer_client.get(url, {"q": text})
    assert len(response.context["page"]) == 24 and response.context["page"].paginator.count == 30


@pytest.mark.parametrize("match_list_limit", [1000, 0], ids=["listed", "tested row by row"])
@pytest.mark.parametrize("url", ["/api/v1/items/", "/api/v1/versions/"])
def test_the_api_search_counts_up_to_the_limit_and_says_when_it_stopped(
    api_viewer, thirty_harbours, django_assert_max_num_queries, monkeypatch, match_list_limit, url
):
    monkeypatch.setattr(search, "MATCH_LIST_LIMIT", match_list_limit)
    with django_assert_max_num_queries(16):
        found = api_viewer.get(url, {"q": "harbour"}).json()
    assert (found["count"], found["count_capped"], len(found["results"])) == (30, False, 30)
    monkeypatch.setattr(search, "COUNT_LIMIT", 20)
    found = api_viewer.get(url, {"q": "harbour"}).json()
    # Pages end where counting stopped, as on the catalogue page.
    assert (found["count"], found["count_capped"], len(found["results"])) == (21, True, 21)
