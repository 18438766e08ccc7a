"""Query filters of the API, as strict as the schema says and no stricter.

django-filter refuses an unknown primary key ("Select a valid choice"), which the schema cannot describe: any
integer is a well-formed id. Here an id filter matches the rows that point to it, none for an unknown one.
And where django-filter reads a boolean it does not understand as "not given", the API refuses it.
"""

import django_filters
from django import forms
from django.db import models
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import filters as drf_filters
from rest_framework import serializers

from collections_app.filters import ItemFilterBase, VersionFilterBase
from dedup.review.filters import ClusterFilter


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class TrueOrFalseField(forms.NullBooleanField):
    """`true` or `false`, as the schema says; anything else is refused instead of being read as "not given"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(serializers.BooleanField.default_error_messages["invalid"], code="invalid")

    def validate(self, value) -> None:
        pass


class TrueOrFalseFilter(django_filters.BooleanFilter):
    # The plain filter, not the rest_framework one, whose widget turns every unknown value into None.
    field_class = TrueOrFalseField


class ApiFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class ApiFilterBackend(filters.DjangoFilterBackend):
    """Builds the filters of `filterset_fields` from ApiFilterSet."""

    filterset_base = ApiFilterSet


class ApiClusterFilter(ClusterFilter):
    """The review queue's filters, with the source as an id (an unknown one matches no cluster)."""

    source = IdFilter(label=ClusterFilter.base_filters["source"].label, method="filter_source")
    skipped = TrueOrFalseFilter(label=ClusterFilter.base_filters["skipped"].label, method="filter_skipped")


class CatalogueSearchFilter(drf_filters.SearchFilter):
    """DRF's SearchFilter convention, one text parameter named `q`, answered by the catalogue's own search.

    The view names the search function (`catalogue_search`), so /api/v1/items/?q= finds what /items/?q= does.
    """

    search_param = "q"
    search_description = gettext_lazy(
        "Part of an identifier, a title in English or Chinese, the description, creator, subjects or a file name."
    )

    def filter_queryset(self, request, queryset, view):
        text = request.query_params.get(self.search_param, "")
        return view.catalogue_search(queryset=queryset, text=text) if text.strip() else queryset


class ApiItemFilter(ItemFilterBase):
    """The catalogue's item filters, with ids and booleans as strict as the schema says."""

    FILTER_DEFAULTS = ApiFilterSet.FILTER_DEFAULTS
    source = IdFilter(label=ItemFilterBase.base_filters["source"].label, method="filter_source")
    in_cluster = TrueOrFalseFilter(label=ItemFilterBase.base_filters["in_cluster"].label, method="filter_in_cluster")
    authoritative = TrueOrFalseFilter(
        label=ItemFilterBase.base_filters["authoritative"].label, method="filter_authoritative"
    )
    legal_hold = TrueOrFalseFilter(label=ItemFilterBase.base_filters["legal_hold"].label, method="filter_legal_hold")

    class Meta(ItemFilterBase.Meta):
        fields = ["identifier", "creator", "merged_into"]


class ApiVersionFilter(VersionFilterBase):
    """The catalogue's version filters, with ids and booleans as strict as the schema says."""

    FILTER_DEFAULTS = ApiFilterSet.FILTER_DEFAULTS
    source = IdFilter(label=VersionFilterBase.base_filters["source"].label, field_name="source")
    in_cluster = TrueOrFalseFilter(label=VersionFilterBase.base_filters["in_cluster"].label, method="filter_in_cluster")
    authoritative = TrueOrFalseFilter(
        label=VersionFilterBase.base_filters["authoritative"].label, method="filter_authoritative"
    )
    legal_hold = TrueOrFalseFilter(label=VersionFilterBase.base_filters["legal_hold"].label, field_name="legal_hold")

    class Meta(VersionFilterBase.Meta):
        fields = ["batch", "item", "sha256", "parent"]
