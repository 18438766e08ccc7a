"""Factories for plain catalogue and detection rows, built straight in the database.

Each default is valid on its own, so a test passes only the fields its assertions depend on. Nothing here
stores a file or fingerprints one: a version that needs either goes through `tests.conftest.store_file`
or the `add_version` fixture instead.
"""

import factory
from django.conf import settings

from collections_app.models import AuthorityRequest, IngestBatch, Item, Source, Version
from dedup.matching.clusters import clusters_count_members
from dedup.models import Cluster, ClusterMember, MatchKind

# What every test user signs in with (the role fixtures, browser_sign_in and the API tests rely on it).
PASSWORD = "pw-for-tests-1"


class UserFactory(factory.django.DjangoModelFactory):
    """An account with no groups or permissions, signing in with PASSWORD."""

    class Meta:
        model = settings.AUTH_USER_MODEL

    username = factory.Sequence(lambda n: f"user-{n}")
    password = factory.django.Password(PASSWORD)


class SourceFactory(factory.django.DjangoModelFactory):
    """A department the files come from, under a unique name."""

    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")


class ItemFactory(factory.django.DjangoModelFactory):
    """A catalogue item with a unique identifier and no versions."""

    class Meta:
        model = Item

    identifier = factory.Sequence(lambda n: f"TEST-{n:05d}")


class IngestBatchFactory(factory.django.DjangoModelFactory):
    """An upload batch from its own source, with nothing in it."""

    class Meta:
        model = IngestBatch

    source = factory.SubFactory(SourceFactory)


class VersionFactory(factory.django.DjangoModelFactory):
    """A version row without a stored file, waiting to be processed."""

    class Meta:
        model = Version

    item = factory.SubFactory(ItemFactory)
    source = factory.SubFactory(SourceFactory)
    original_filename = factory.Sequence(lambda n: f"file-{n}.jpg")
    byte_size = 1
    # A well-formed digest that no real file has, so no two factory versions look like exact copies.
    sha256 = factory.Sequence(lambda n: f"{n:064x}")


class ClusterFactory(factory.django.DjangoModelFactory):
    """An open cluster with no members."""

    class Meta:
        model = Cluster


class ClusterMemberFactory(factory.django.DjangoModelFactory):
    """A near-duplicate version in a cluster, each created when not given."""

    class Meta:
        model = ClusterMember

    cluster = factory.SubFactory(ClusterFactory)
    version = factory.SubFactory(VersionFactory)
    kind = MatchKind.NEAR
    score = 0.9

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As matching does: the cluster row keeps its member count and kinds (the queue filters on them).
        member = super()._create(model_class, *args, **kwargs)
        clusters_count_members(cluster_ids=[member.cluster_id])
        return member


class AuthorityRequestFactory(factory.django.DjangoModelFactory):
    """A pending request to make one of an item's versions authoritative."""

    class Meta:
        model = AuthorityRequest

    item = factory.SubFactory(ItemFactory)
    # The requested version must belong to the same item.
    version = factory.SubFactory(VersionFactory, item=factory.SelfAttribute("..item"))
    reason = "Signed original"
    requested_by = factory.SubFactory(UserFactory)
