"""Queue filters: source, match kind, cluster size, upload date and status (open by default)."""

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from collections_app.models import Source
from dedup.models import KIND_FLAGS, Cluster, ClusterMember
from dedup.templatetags.review_tags import SHORT_KINDS

SIZES = [("2", _("2 versions")), ("3-5", _("3 to 5 versions")), ("6+", _("6 or more"))]


def _with_member(queryset: QuerySet, **conditions) -> QuerySet:
    # EXISTS instead of a join: no duplicate rows and no DISTINCT over the whole queue.
    return queryset.filter(Exists(ClusterMember.objects.filter(cluster=OuterRef("pk"), **conditions)))


class ClusterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Cluster.Status.choices, empty_label=_("Any"))
    # A source's primary key; the filter method hides the model field from the API schema generator.
    source = extend_schema_field(OpenApiTypes.INT)(
        django_filters.ModelChoiceFilter(
            label=_("Source"), queryset=Source.objects.all(), method="filter_source", empty_label=_("Any")
        )
    )
    kind = django_filters.ChoiceFilter(
        label=_("Match kind"), choices=list(SHORT_KINDS.items()), method="filter_kind", empty_label=_("Any")
    )
    size = django_filters.ChoiceFilter(label=_("Size"), choices=SIZES, method="filter_size", empty_label=_("Any"))
    uploaded_after = django_filters.DateFilter(label=_("Uploaded from"), method="filter_uploaded_after")
    uploaded_before = django_filters.DateFilter(label=_("Uploaded until"), method="filter_uploaded_before")
    skipped = django_filters.BooleanFilter(label=_("Skipped by me"), method="filter_skipped")

    class Meta:
        model = Cluster
        fields = ["status"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("status", Cluster.Status.OPEN)
        data.setdefault("skipped", "false")
        super().__init__(data, *args, **kwargs)

    def filter_source(self, queryset, name, value):
        return _with_member(queryset, version__source=value)

    # Kind, size and upload dates are read off the cluster row (kept by clusters_count_members), not members.
    def filter_kind(self, queryset, name, value):
        return queryset.filter(**{KIND_FLAGS[value]: True})

    def filter_size(self, queryset, name, value):
        low, high = {"2": (2, 2), "3-5": (3, 5), "6+": (6, None)}[value]
        queryset = queryset.filter(member_count__gte=low)
        return queryset.filter(member_count__lte=high) if high else queryset

    # A member uploaded on or after the day is the latest upload on or after it (and the first, before).
    def filter_uploaded_after(self, queryset, name, value):
        return queryset.filter(last_uploaded_at__date__gte=value)

    def filter_uploaded_before(self, queryset, name, value):
        return queryset.filter(first_uploaded_at__date__lte=value)

    def filter_skipped(self, queryset, name, value):
        return queryset.filter(skipped=value)


ORDERS = {
    "surest": ("-confidence", "pk"),
    "least_sure": ("confidence", "-pk"),  # the queue index read backwards
}


class QueueFilter(ClusterFilter):
    """The review page's filters, with the order: surest first (the default) or least sure first."""

    order = django_filters.ChoiceFilter(
        label=_("Order"),
        choices=[("surest", _("Surest first")), ("least_sure", _("Least sure first"))],
        method="filter_order",
        empty_label=None,
    )

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("order", "surest")
        super().__init__(data, *args, **kwargs)

    def filter_order(self, queryset, name, value):
        return queryset.order_by(*ORDERS[value])
