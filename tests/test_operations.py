"""/healthz, /readyz and /metrics against the real database, broker, storage and a worker process."""

import asyncio
import re

import pytest
from django.core.cache import cache

from collections_app.models import Version
from dedup.models import Cluster
from dedup.telemetry import verification_flush
from tests.conftest import start_worker, stop_worker
from tests.dedup.conftest import add_version  # noqa: F401
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_healthz_answers_while_the_process_lives_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"OK\n"


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_readyz_is_ready_only_once_a_worker_answers(client, live_broker):
    without = client.get("/readyz")
    assert without.status_code == 503
    lines = without.content.decode().splitlines()
    assert [line for line in lines if line.startswith("Worker: ")][0].startswith("Worker: Unavailable")
    assert {line.split(":")[0] for line in lines if line.endswith(": OK")} >= {"Broker", "Database(alias='default')"}
    worker = start_worker("--pool=solo")
    try:
        ready = client.get("/readyz")
    finally:
        stop_worker(worker)
    assert ready.status_code == 200, ready.content.decode()
    assert "Storage(default): OK" in ready.content.decode()
    assert "Storage(quarantine): OK" in ready.content.decode()


def test_readyz_names_a_file_store_that_cannot_be_written(client, settings, tmp_path):
    blocked = tmp_path / "media"
    blocked.write_bytes(b"a file where the media folder should be")
    settings.MEDIA_ROOT = blocked
    response = client.get("/readyz")
    text = response.content.decode()
    assert response.status_code == 503
    assert "Storage(default): Unavailable: The file store cannot be written to." in text
    assert "Storage(quarantine): OK" in text


def test_the_broker_check_fails_when_the_broker_cannot_be_reached(monkeypatch):
    from config.celery_app import app
    from reports.health import Broker

    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda *a, **k: connect("redis://127.0.0.1:1/0"))  # nothing there
    result = asyncio.run(Broker().get_result())
    assert str(result.error) == "Unavailable: The broker cannot be reached."
    monkeypatch.undo()
    assert asyncio.run(Broker().get_result()).error is None


def test_readyz_checks_object_storage_too(client, s3):
    response = client.get("/readyz")
    assert "Storage(default): OK" in response.content.decode()
    assert s3.keys() == []  # the probe file was deleted again


def test_metrics_are_closed_to_addresses_not_listed_and_open_with_the_token(client, settings):
    settings.DUPFINDER_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.DUPFINDER_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_production_settings_close_metrics_unless_an_address_is_named():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.DUPFINDER_METRICS_ALLOWED_IPS)"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": "postgres://u@127.0.0.1/d",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_metrics_count_versions_clusters_throughput_queue_and_verification_time(
    client,
    add_version,  # noqa: F811
    settings,
    live_broker,
):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}
    }
    cache.clear()
    picture = scene(61, (400, 300))
    add_version("a.jpg", encode(picture, quality=90))
    add_version("b.jpg", encode(picture.resize((300, 225)), quality=80))
    verification_flush()
    Version.objects.create(  # waiting, never queued
        item=Version.objects.first().item,
        file="originals/x.jpg",
        original_filename="x.jpg",
        source=Version.objects.first().source,
        byte_size=1,
        sha256="0" * 64,
    )
    from config.celery_app import app

    with app.producer_or_acquire() as producer:
        producer.publish({"probe": 1}, routing_key="celery", serializer="json")

    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert _metric(text, 'dupfinder_versions{status="done"}') == 2
    assert _metric(text, 'dupfinder_versions{status="pending"}') == 1
    assert _metric(text, 'dupfinder_versions{status="failed"}') == 0
    assert _metric(text, "dupfinder_open_clusters") == Cluster.objects.filter(status="open").count() == 1
    assert _metric(text, "dupfinder_files_processed_per_minute") == pytest.approx(2 / 5)
    assert _metric(text, "dupfinder_queue_length") == 1
    assert _metric(text, "dupfinder_verification_seconds_count") >= 1
    assert _metric(text, "dupfinder_verification_seconds_sum") > 0
    assert "django_http_requests_total_by_method_total" in text  # django-prometheus's own
    cache.clear()
