"""Catalogue filters for items and versions: source, upload dates, format, status, cluster, authority, legal hold.

The page's filter sets add the search box and the sort; the API builds on the same bases (api/filters.py) with
its own search and ordering parameters (DRF's SearchFilter and OrderingFilter conventions).
"""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from collections_app.models import Item, Source, Version
from collections_app.search import items_search, versions_search
from dedup.imaging.formats import OPEN_FORMATS

FORMAT_CHOICES = [(name, name) for name in OPEN_FORMATS]
# "true"/"false" in the address, as the API writes booleans, with words on the page.
YES_NO = forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])
# Detection (dedup) records cluster membership under this name on Version; only the name is used here.
IN_A_CLUSTER = {"cluster_memberships__isnull": False}


def _with_version(queryset: QuerySet[Item], **conditions) -> QuerySet[Item]:
    # EXISTS rather than a join: one row per item and no DISTINCT over the whole catalogue.
    return queryset.filter(Exists(Version.objects.filter(item=OuterRef("pk"), **conditions)))


def _without_version(queryset: QuerySet[Item], **conditions) -> QuerySet[Item]:
    return queryset.exclude(Exists(Version.objects.filter(item=OuterRef("pk"), **conditions)))


class ItemFilterBase(django_filters.FilterSet):
    """Filters on an item's versions (any one of them) and on the item itself."""

    source = django_filters.ModelChoiceFilter(
        label=_("Source"), queryset=Source.objects.all(), method="filter_source", empty_label=_("Any")
    )
    uploaded_after = django_filters.DateFilter(label=_("Uploaded from"), method="filter_uploaded_after")
    uploaded_before = django_filters.DateFilter(label=_("Uploaded until"), method="filter_uploaded_before")
    # Not "format": DRF reads ?format= as the answer's format (JSON or the browsable API).
    file_format = django_filters.ChoiceFilter(
        label=_("Format"), choices=FORMAT_CHOICES, method="filter_format", empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        label=_("Processing status"), choices=Version.Status.choices, method="filter_status", empty_label=_("Any")
    )
    in_cluster = django_filters.BooleanFilter(label=_("In a cluster"), method="filter_in_cluster", widget=YES_NO)
    authoritative = django_filters.BooleanFilter(
        label=_("Authoritative version chosen"), method="filter_authoritative", widget=YES_NO
    )
    legal_hold = django_filters.BooleanFilter(label=_("Legal hold"), method="filter_legal_hold", widget=YES_NO)

    class Meta:
        model = Item
        fields: list[str] = []

    def filter_source(self, queryset, name, value):
        return _with_version(queryset, source=value)

    def filter_uploaded_after(self, queryset, name, value):
        return _with_version(queryset, uploaded_at__date__gte=value)

    def filter_uploaded_before(self, queryset, name, value):
        return _with_version(queryset, uploaded_at__date__lte=value)

    def filter_format(self, queryset, name, value):
        return _with_version(queryset, format=value)

    def filter_status(self, queryset, name, value):
        return _with_version(queryset, status=value)

    def filter_in_cluster(self, queryset, name, value):
        return (_with_version if value else _without_version)(queryset, **IN_A_CLUSTER)

    def filter_authoritative(self, queryset, name, value):
        return queryset.filter(authoritative_version__isnull=not value)

    def filter_legal_hold(self, queryset, name, value):
        return (_with_version if value else _without_version)(queryset, legal_hold=True)


ITEM_SORTS = (
    ("created_at", "added"),
    ("identifier", "identifier"),
    ("title", "title"),
    ("title_zh", "title_zh"),
    ("version_count", "versions"),
)
ITEM_SORT_LABELS = {
    "-added": _("Newest first"),
    "added": _("Oldest first"),
    "identifier": _("Identifier A-Z"),
    "-identifier": _("Identifier Z-A"),
    "title": _("English title A-Z"),
    "title_zh": _("Chinese title"),
    "-versions": _("Most versions"),
}


class ItemFilter(ItemFilterBase):
    """The catalogue page: a search box, the filters and a sort."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    sort = django_filters.OrderingFilter(
        label=_("Sort"), fields=ITEM_SORTS, choices=list(ITEM_SORT_LABELS.items()), empty_label=None
    )

    def filter_q(self, queryset, name, value):
        return items_search(queryset=queryset, text=value)


class VersionFilterBase(django_filters.FilterSet):
    """The same filters, on each version by itself."""

    source = django_filters.ModelChoiceFilter(label=_("Source"), queryset=Source.objects.all(), empty_label=_("Any"))
    uploaded_after = django_filters.DateFilter(
        label=_("Uploaded from"), field_name="uploaded_at", lookup_expr="date__gte"
    )
    uploaded_before = django_filters.DateFilter(
        label=_("Uploaded until"), field_name="uploaded_at", lookup_expr="date__lte"
    )
    file_format = django_filters.ChoiceFilter(
        label=_("Format"), field_name="format", choices=FORMAT_CHOICES, empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        label=_("Processing status"), choices=Version.Status.choices, empty_label=_("Any")
    )
    in_cluster = django_filters.BooleanFilter(label=_("In a cluster"), method="filter_in_cluster", widget=YES_NO)
    authoritative = django_filters.BooleanFilter(
        label=_("The authoritative version"), method="filter_authoritative", widget=YES_NO
    )
    legal_hold = django_filters.BooleanFilter(label=_("Legal hold"), widget=YES_NO)

    class Meta:
        model = Version
        fields: list[str] = []

    def filter_in_cluster(self, queryset, name, value):
        member = Exists(Version.objects.filter(pk=OuterRef("pk"), **IN_A_CLUSTER))
        return queryset.filter(member) if value else queryset.exclude(member)

    def filter_authoritative(self, queryset, name, value):
        chosen = Exists(Item.objects.filter(authoritative_version=OuterRef("pk")))
        return queryset.filter(chosen) if value else queryset.exclude(chosen)


VERSION_SORT_LABELS = {
    "-uploaded_at": _("Newest first"),
    "uploaded_at": _("Oldest first"),
    "original_filename": _("File name A-Z"),
    "-byte_size": _("Largest first"),
}


class VersionFilter(VersionFilterBase):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(("uploaded_at", "uploaded_at"), ("original_filename", "original_filename"), ("byte_size", "byte_size")),
        choices=list(VERSION_SORT_LABELS.items()),
        empty_label=None,
    )

    def filter_q(self, queryset, name, value):
        return versions_search(queryset=queryset, text=value)
