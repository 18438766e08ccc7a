"""Prometheus metrics on /metrics: django-prometheus's request metrics and this project's own, read at scrape time.

The project's figures come from PostgreSQL, the broker and the shared cache when Prometheus asks, so every web
process on every host answers the same, and nothing needs prometheus_client's multi-process mode for them.
Who may read /metrics is a setting (DUPFINDER_METRICS_ALLOWED_IPS, DUPFINDER_METRICS_TOKEN); closed by default in
production.
"""

import hmac
import ipaddress
import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.utils.translation import gettext as _
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from collections_app.login_throttle import client_ip
from collections_app.models import Version
from dedup.models import Cluster
from dedup.telemetry import BUCKETS, verification_totals

logger = logging.getLogger(__name__)
QUEUE = "celery"
# Files processed per minute are averaged over this window, so one scrape does not see a burst or a gap.
RATE_WINDOW = timedelta(minutes=5)


def queue_length() -> int | None:
    """Messages waiting in the broker's queue (Redis or the demo's filesystem broker); None if it cannot be read."""
    from celery import current_app as app  # the project's app, set up by config at start-up

    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=QUEUE, passive=True).message_count
    except Exception:  # noqa: BLE001 - an unreachable broker is reported as a missing figure, not a failed scrape
        logger.warning("The broker's queue length could not be read.", exc_info=True)
        return None


class DupfinderCollector(Collector):
    """The figures an operator watches: backlog, failures, throughput, verification time, curators' queue."""

    def collect(self):
        length = queue_length()
        if length is not None:
            yield GaugeMetricFamily("dupfinder_queue_length", "Messages waiting in the Celery queue.", value=length)
        versions = GaugeMetricFamily("dupfinder_versions", "Versions by processing status.", labels=["status"])
        counts = dict(Version.objects.values_list("status").annotate(n=Count("pk")).order_by())
        for status in Version.Status.values:
            versions.add_metric([status], counts.get(status, 0))
        yield versions
        since = timezone.now() - RATE_WINDOW
        processed = Version.objects.filter(processed_at__gte=since).count()
        yield GaugeMetricFamily(
            "dupfinder_files_processed_per_minute",
            "Files processed (done or failed) per minute, averaged over the last 5 minutes.",
            value=processed / (RATE_WINDOW.total_seconds() / 60),
        )
        yield GaugeMetricFamily(
            "dupfinder_open_clusters",
            "Clusters waiting for a curator.",
            value=Cluster.objects.filter(status=Cluster.Status.OPEN).count(),
        )
        yield self._verification()

    @staticmethod
    def _verification() -> HistogramMetricFamily:
        totals = verification_totals()
        buckets = [(str(bound), totals[f"le_{bound}"]) for bound in BUCKETS] + [("+Inf", totals["count"])]
        return HistogramMetricFamily(
            "dupfinder_verification_seconds",
            "Time to verify one candidate pair, counted by every worker.",
            buckets=buckets,
            sum_value=totals["sum_us"] / 1_000_000,
        )


def metrics_allowed(request: HttpRequest) -> bool:
    """A listed address (DUPFINDER_METRICS_ALLOWED_IPS: addresses or networks) or the bearer token."""
    token = settings.DUPFINDER_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.DUPFINDER_METRICS_ALLOWED_IPS
    )


def _ours() -> bytes:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(DupfinderCollector())
    return generate_latest(registry)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, only for the addresses or token the settings name.

    django-prometheus's request and response metrics (gathered across gunicorn's processes when
    PROMETHEUS_MULTIPROC_DIR is set), then the project's own.
    """
    if not metrics_allowed(request):
        return HttpResponseForbidden(_("Metrics are not open to this address.") + "\n", content_type="text/plain")
    requests = ExportToDjangoView(request).content
    return HttpResponse(requests + _ours(), content_type=CONTENT_TYPE_LATEST)
