"""Pages of the catalogue lists on the API: counted up to the catalogue's limit, as the pages are."""

from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from collections_app.search import COUNT_LIMIT, CappedPaginator


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
