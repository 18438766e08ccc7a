"""A file store that cannot be written to answers pages with 503 and the reason, not a server error."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from collections_app.services import StorageUnavailable


class StorageUnavailableMiddleware:
    """Turns StorageUnavailable from any view into the 503 page; the API answers it in JSON (api.exceptions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, StorageUnavailable):
            return None
        return render(request, "503.html", {"reason": str(exception)}, status=503)
