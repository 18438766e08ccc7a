"""The API's exception handler: DRF's, plus 503 in JSON when the file store cannot be written to."""

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from collections_app.services import StorageUnavailable


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: StorageUnavailable is 503 {"detail": reason}; the rest as DRF does."""
    if isinstance(exc, StorageUnavailable):
        return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    return drf_exception_handler(exc, context)
