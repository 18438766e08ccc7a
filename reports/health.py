"""Liveness (/healthz) and readiness (/readyz) for load balancers, supervisors and container orchestrators.

Both are open without signing in, as probes carry no credentials; they say only which component is OK or
unavailable, never an address or a setting. /readyz (django-health-check) answers 200 when the database, the
broker, both file stores (written, read back and deleted) and at least one worker answer; otherwise 503.
"""

import dataclasses
import datetime

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from collections_app.storage import STORAGE_ERRORS


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis in production, the filesystem broker in the demo)."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=3), repr=False)

    def __repr__(self) -> str:
        return "Broker"

    def run(self) -> None:
        from celery import current_app as app  # the project's app, set up by config at start-up

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # noqa: BLE001 - kombu raises the transport's own errors
            raise ServiceUnavailable("The broker cannot be reached.") from exc


@dataclasses.dataclass
class FileStore(Storage):
    """A file store (default: originals and thumbnails; quarantine) takes a file, gives it back and deletes it."""

    def __repr__(self) -> str:
        return f"Storage({self.alias})"

    def run(self) -> None:
        try:
            super().run()
        except STORAGE_ERRORS as exc:  # a full or missing disk, a bucket that refuses or cannot be reached
            raise ServiceUnavailable("The file store cannot be written to.") from exc


@dataclasses.dataclass
class Worker(Ping):
    """At least one Celery worker answers a ping and consumes the queue."""

    # A busy worker answers between two files; prefork answers from its main process at once.
    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2), repr=False)

    def __repr__(self) -> str:
        return "Worker"


class ReadinessView(HealthCheckView):
    """django-health-check's view, answering 503 (not 500) when a component is down, in plain text by default."""

    checks = (
        Database,
        Broker,
        (FileStore, {"alias": "default"}),
        (FileStore, {"alias": "quarantine"}),
        Worker,
    )

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response

    def render_to_response(self, context, **response_kwargs):
        return self.render_to_response_text(response_kwargs.get("status", 200))


@never_cache
def liveness(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; dependencies are /readyz's business (a restart would not mend them)."""
    return HttpResponse("OK\n", content_type="text/plain; charset=utf-8")
