"""Every role against every write action: allowed roles get through, the others get 403 and change nothing."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from collections_app.models import AuditEvent, AuthorityRequest, Item, Version
from collections_app.roles import ROLE_ORDER
from dedup.models import Cluster
from dedup.review.selectors import cluster_token
from tests.factories import AuthorityRequestFactory, ClusterFactory, ClusterMemberFactory, SourceFactory, VersionFactory
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


@dataclass
class World:
    cluster: Cluster
    versions: list[Version]
    item: Item
    request: AuthorityRequest


@pytest.fixture
def world(role_user) -> World:
    source = SourceFactory()
    versions = VersionFactory.create_batch(2, source=source)
    for version in versions:
        version.item.authoritative_version = version
        version.item.save()
    cluster = ClusterFactory(confidence=0.9)
    for version in versions:
        ClusterMemberFactory(cluster=cluster, version=version)
    item = versions[0].item
    # The third version: test_role_may_or_may_not_perform_action counts exactly three.
    other = VersionFactory(item=item, source=source)
    requester = role_user("records_officer", "requester")
    request = AuthorityRequestFactory(item=item, version=other, requested_by=requester)
    return World(cluster, versions, item, request)


def _png(name: str = "copy.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, encode(scene(5, (120, 90)), "PNG"), content_type="image/png")


Action = Callable[[World], tuple[str, dict]]
ACTIONS: dict[str, tuple[str, Action]] = {
    # name: (first role allowed, request to make)
    "upload": ("uploader", lambda w: (reverse("upload"), {"source": w.versions[0].source_id, "files": _png()})),
    "review merge": (
        "curator",
        lambda w: (
            reverse("review-merge", args=[w.cluster.pk]),
            {"token": cluster_token(w.cluster), "authoritative": w.versions[0].pk},
        ),
    ),
    "review split": (
        "curator",
        lambda w: (
            reverse("review-split", args=[w.cluster.pk]),
            {"token": cluster_token(w.cluster), "version": w.versions[0].pk},
        ),
    ),
    "review dismiss": (
        "curator",
        lambda w: (reverse("review-dismiss", args=[w.cluster.pk]), {"token": cluster_token(w.cluster)}),
    ),
    "review undo": (
        "curator",
        lambda w: (reverse("review-undo", args=[w.cluster.pk]), {"token": cluster_token(w.cluster)}),
    ),
    "review skip": ("curator", lambda w: (reverse("review-skip", args=[w.cluster.pk]), {})),
    "review not duplicates": (
        "curator",
        lambda w: (
            reverse("review-pair", args=[w.cluster.pk]),
            {"version_a": w.versions[0].pk, "version_b": w.versions[1].pk},
        ),
    ),
    "mark authoritative": (
        "records_officer",
        lambda w: (
            reverse("item-mark-authoritative", args=[w.item.pk]),
            {"version": w.request.version_id, "reason": "Signed original"},
        ),
    ),
    "approve authoritative": (
        "records_officer",
        lambda w: (reverse("authority-approve", args=[w.request.pk]), {"note": "ok"}),
    ),
    "reject authoritative": (
        "records_officer",
        lambda w: (reverse("authority-reject", args=[w.request.pk]), {"note": "no"}),
    ),
    "retry processing": ("uploader", lambda w: (reverse("version-retry", args=[w.versions[0].pk]), {})),
    "verify (API)": ("viewer", lambda w: (reverse("api-verify"), {"file": _png()})),
    "verify (page)": ("viewer", lambda w: (reverse("verify"), {"file": _png()})),
}


def _allowed(role: str, first: str) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(first)


@pytest.mark.parametrize("role", ROLE_ORDER)
@pytest.mark.parametrize("action", ACTIONS)
def test_role_may_or_may_not_perform_action(client, role_user, world, role, action):
    first, make = ACTIONS[action]
    client.force_login(role_user(role, f"the-{role}"))
    url, data = make(world)
    events = AuditEvent.objects.count()
    response = client.post(url, data)
    if _allowed(role, first):
        assert response.status_code != 403, f"{role} should be allowed to {action}"
    else:
        assert response.status_code == 403, f"{role} must not {action}"
        assert AuditEvent.objects.count() == events
        assert Version.objects.count() == 3 and Cluster.objects.get().status == Cluster.Status.OPEN


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, action):
    url, data = ACTIONS[action][1](world)
    response = client.post(url, data)
    if action.endswith("(API)"):
        assert response.status_code == 401  # an API answers, as every /api/v1/ action does, rather than redirect
    else:
        assert response.status_code == 302 and reverse("login") in response.url


def test_the_admin_cannot_change_the_authoritative_version_bypassing_the_audit(client, role_user, world):
    admin_user = role_user("administrator", "admin-user")
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    url = reverse("admin:collections_app_item_change", args=[world.item.pk])
    html = client.get(url).content.decode()
    assert 'name="identifier"' in html and 'name="authoritative_version"' not in html
