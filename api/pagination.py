"""Pages of the catalogue lists on the API: counted up to the catalogue's limit, as the pages are."""

from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from collections_app.search import COUNT_LIMIT, CappedPaginator, IdsFirstPaginator


class CataloguePagination(PageNumberPagination):
    """`count` stops one past COUNT_LIMIT, and `count_capped` says so: a million rows are never counted."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = _(
            "Matches counted, at most %(most)d; past %(limit)d, count_capped is true."
        ) % {"most": COUNT_LIMIT + 1, "limit": COUNT_LIMIT}
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": _("True when there are more than %(limit)d matches and counting stopped there.")
            % {"limit": COUNT_LIMIT},
        }
        described["required"] = [*described.get("required", []), "count_capped"]
        return described


class QueuePagination(CataloguePagination):
    """The review queue's pages: counted up to COUNT_LIMIT or to the end of the page asked for, whichever is
    further, so every page can be reached and a queue of a hundred thousand clusters is never counted whole;
    a page reads its clusters' ids first, so a deep page does not load the clusters before it."""

    def paginate_queryset(self, queryset, request, view=None):
        try:
            asked = max(1, int(request.query_params.get(self.page_query_param, 1)))
        except ValueError:  # "last", or a number DRF refuses itself
            asked = 1
        self.limit = max(COUNT_LIMIT, asked * self.get_page_size(request))
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page: int) -> CappedPaginator:
        return IdsFirstPaginator(object_list, per_page, limit=self.limit)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = _(
            "Clusters counted, up to %(limit)d or to the end of the page asked for, whichever is further, and one "
            "more; count_capped is true when counting stopped there."
        ) % {"limit": COUNT_LIMIT}
        described["properties"]["count_capped"]["description"] = _(
            "True when there are more clusters than were counted."
        )
        return described
