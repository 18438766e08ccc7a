"""New items are numbered from a database sequence: identifiers never collide, typed-in ones are kept."""

import re

import pytest
from django.utils import timezone

from collections_app.models import Item

pytestmark = pytest.mark.django_db


def test_new_items_are_numbered_in_order_from_the_sequence():
    year = timezone.localdate().year
    first, second = Item.objects.create(), Item.objects.create()
    assert re.fullmatch(rf"DR-{year}-\d{{6}}", first.identifier)
    assert int(second.identifier.rsplit("-", 1)[1]) == int(first.identifier.rsplit("-", 1)[1]) + 1


def test_thousands_of_items_made_at_once_all_get_their_own_identifier():
    items = Item.objects.bulk_create([Item() for _ in range(3000)])
    assert len({item.identifier for item in items}) == 3000


def test_an_identifier_typed_in_by_hand_is_kept_and_never_handed_out_again(settings):
    kept = Item.objects.create(identifier="HKMA 1962/7")
    following = Item.objects.create()
    number = int(following.identifier.rsplit("-", 1)[1])
    taken = Item.objects.create(identifier=f"DR-{timezone.localdate().year}-{number + 1:06d}")
    after = Item.objects.create()
    assert kept.identifier == "HKMA 1962/7" and after.identifier not in (taken.identifier, following.identifier)


def test_the_pattern_can_be_configured(settings):
    settings.DUPFINDER_IDENTIFIER_PATTERN = "HKMA-{number:08d}"
    assert re.fullmatch(r"HKMA-\d{8}", Item.objects.create().identifier)
