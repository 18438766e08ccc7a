"""Possible duplicates: listed with the differing place outlined, confirmed into a cluster or declined, by
curators only; both decisions survive rebuild_clusters."""

import pytest
from django.urls import reverse

from collections_app.models import AuditEvent
from dedup.matching.rebuild import clusters_rebuild
from dedup.models import ClusterMember, ConfirmedDuplicatePair, MatchEdge, NotDuplicatePair
from tests.images import encode, one_place_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def possible_pair(add_version):
    """A photograph and a reduced copy with other content in one place: verification can say only that one
    place differs."""
    photo, changed = one_place_changed()
    chan = add_version("harbour/print.png", encode(photo, "PNG"))
    wong = add_version("harbour/press.png", encode(changed.resize((changed.width // 2, changed.height // 2)), "PNG"))
    assert not ClusterMember.objects.exists()
    return chan, wong


def _sign_in(client, role_user, role):
    user = role_user(role)
    client.force_login(user)
    return user


def test_the_list_shows_the_pair_with_the_differing_place_outlined_on_both(client, role_user, possible_pair):
    _sign_in(client, role_user, "viewer")
    assert client.get(reverse("review-possible")).status_code == 403
    _sign_in(client, role_user, "curator")
    response = client.get(reverse("review-possible"))
    assert response.status_code == 200
    (row,) = response.context["rows"]
    for outline in (row["outline_a"], row["outline_b"]):
        assert 0 <= outline["top"] < 100 and 0 < outline["height"] <= 100 and 0 < outline["width"] <= 100
    assert response.content.decode().count('<svg class="region"') == 2


def test_the_pair_says_why_in_words_and_in_chinese_once_the_reader_switches(client, role_user, possible_pair):
    _sign_in(client, role_user, "curator")
    edge = MatchEdge.objects.get(evidence__possible=True)
    assert (edge.evidence["reason"], edge.evidence["reason_params"]) == ("possible_overlay", {})
    english = "Same picture except one region, which may be laid over it or may be other content."
    assert f'<p class="reason">{english}</p>' in client.get(reverse("review-possible")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hant", "next": reverse("review-possible")})
    page = client.get(reverse("review-possible")).content.decode()
    chinese = "除了一個區域外是同一張圖片；該區域可能是疊加在上面的東西，也可能是不同的內容。"
    assert f'<p class="reason">{chinese}</p>' in page
    assert english not in page


def test_confirming_joins_the_two_in_a_cluster_and_survives_a_rebuild(client, role_user, possible_pair):
    chan, wong = possible_pair
    _sign_in(client, role_user, "curator")
    response = client.post(
        reverse("review-possible-decide"), {"version_a": chan.pk, "version_b": wong.pk, "decision": "confirm"}
    )
    assert response.status_code == 302
    members = set(ClusterMember.objects.values_list("version_id", flat=True))
    assert members == {chan.pk, wong.pk}
    assert AuditEvent.objects.filter(action="pair.confirmed_duplicate").count() == 1
    assert ConfirmedDuplicatePair.objects.count() == 1
    clusters_rebuild()
    assert set(ClusterMember.objects.values_list("version_id", flat=True)) == {chan.pk, wong.pk}
    assert client.get(reverse("review-possible")).context["rows"] == []


def test_declining_is_remembered_as_not_duplicates(client, role_user, possible_pair):
    chan, wong = possible_pair
    viewer = role_user("viewer", "v2")
    client.force_login(viewer)
    decide = {"version_a": chan.pk, "version_b": wong.pk, "decision": "decline"}
    assert client.post(reverse("review-possible-decide"), decide).status_code == 403
    _sign_in(client, role_user, "curator")
    client.post(reverse("review-possible-decide"), decide)
    assert NotDuplicatePair.objects.filter(version_a_id=chan.pk, version_b_id=wong.pk).exists()
    assert client.get(reverse("review-possible")).context["rows"] == []
    assert not ClusterMember.objects.exists()
