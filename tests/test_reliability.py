"""Failures a production install meets: a worker killed mid-batch, the broker down, curators racing each other."""

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import kombu.pools
import psycopg
import pytest
from celery.utils.nodenames import default_nodename, host_format
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.common import ignore_errors
from kombu.exceptions import OperationalError
from kombu.transport import redis as kombu_redis

import dedup.services as processing
from collections_app.models import AuditEvent, Item, Version
from collections_app.services import source_get_or_create
from config.celery_app import app as celery_app
from dedup.matching import clusters as matching
from dedup.matching.clusters import MATCH_LOCK_KEY
from dedup.models import Cluster, ClusterMember, Fingerprint
from dedup.review import services as review
from dedup.review.selectors import cluster_token
from dedup.services import PROCESSING_LOCK_BASE, version_process
from dedup.tasks import process_version
from tests.conftest import ROOT, _worker_env, start_worker, stop_worker, store_file, wait_until
from tests.images import encode, scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _copies(seed: int) -> list[bytes]:
    """Three files of one picture: a JPEG, a smaller recompressed JPEG and a PNG."""
    picture = scene(seed, (900, 700))
    return [encode(picture, quality=92), encode(picture.resize((450, 350)), quality=80), encode(picture, "PNG")]


def _groups() -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for member in ClusterMember.objects.select_related("version"):
        groups.setdefault(member.cluster_id, []).append(member.version.original_path)
    return sorted(sorted(g) for g in groups.values())


def _pg_connect(*, autocommit: bool = True) -> psycopg.Connection:
    """A connection of its own, outside Django, to hold locks the worker will meet."""
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=autocommit)


def _advisory_lock_held(key: int, *, granted: bool = True) -> bool:
    """Whether a session holds (or waits for) this advisory lock in the test database; pg_locks lists them all."""
    with _pg_connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s "
            "AND objsubid = 1 AND granted = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF, granted],
        ).fetchone()
    return row[0] > 0


def _broker_backlog() -> int:
    """Messages still queued or delivered but not acknowledged, on the test broker."""
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen("celery") + client.hlen("unacked")


def test_a_worker_killed_mid_batch_leaves_every_version_done_exactly_once(live_broker, monkeypatch):
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.delete("unacked", "unacked_index")  # left by earlier runs
    with monkeypatch.context() as patch:  # stored first, queued below once the worker is listening
        patch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
        versions = [
            store_file(f"{seed}/{n}.{'png' if n == 2 else 'jpg'}", data)
            for seed in range(4)
            for n, data in enumerate(_copies(300 + seed))
        ]
    held = versions[5]
    row_lock, match_lock, worker = _pg_connect(autocommit=False), _pg_connect(), None
    try:
        # The held version's row is locked, so the worker finishes the five before it and waits at its claim.
        row_lock.execute("SELECT 1 FROM collections_app_version WHERE id = %s FOR UPDATE", [held.pk])
        worker = start_worker("--pool=solo", "-n", "doomed@%h")
        for version in versions:
            process_version.delay(version.pk)
        wait_until(lambda: Version.objects.filter(status="done").count() == 5, timeout=60)
        # Then it is let through to fingerprint the held version, and stopped again where clusters are updated.
        match_lock.execute("SELECT pg_advisory_lock(%s)", [MATCH_LOCK_KEY])
        row_lock.rollback()
        wait_until(lambda: _advisory_lock_held(MATCH_LOCK_KEY, granted=False), timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        match_lock.close()
        row_lock.close()
    # PostgreSQL drops the dead worker's session (and its processing lock) once its last statement ends.
    wait_until(lambda: not _advisory_lock_held(PROCESSING_LOCK_BASE | held.pk), timeout=30)
    statuses = dict(Version.objects.values_list("pk", "status"))
    assert statuses[held.pk] == "processing" and Fingerprint.objects.filter(pk=held.pk).exists()
    assert sorted(statuses.values()) == sorted(["done"] * 5 + ["processing"] + ["pending"] * 6)

    # The killed worker's unacknowledged message comes back (short visibility timeout) and the sweep queues
    # every stuck version again: the held version is delivered twice and must still be recorded once.
    monkeypatch.setenv("CELERY_BROKER_VISIBILITY_TIMEOUT", "1")
    worker = start_worker("--pool=solo", "-n", "heir@%h")
    try:
        call_command("requeue_stuck", older_than=0, stdout=io.StringIO())
        wait_until(lambda: not Version.objects.exclude(status="done").exists(), timeout=60)
        finished = dict(Version.objects.values_list("pk", "processed_at"))
        wait_until(lambda: _broker_backlog() == 0, timeout=60)
    finally:
        stop_worker(worker)
    assert dict(Version.objects.values_list("pk", "processed_at")) == finished
    assert Fingerprint.objects.count() == len(versions)
    assert sorted(default_storage.listdir(f"thumbs/{held.pk}")[1]) == ["1024.jpg", "256.jpg"]
    assert _groups() == [sorted(f"{seed}/{n}.{'png' if n == 2 else 'jpg'}" for n in range(3)) for seed in range(4)]


def test_a_version_held_by_a_live_run_is_left_to_it_and_taken_over_once_that_run_is_gone(monkeypatch):
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    version = store_file("held.jpg", encode(scene(800), quality=90))
    Version.objects.filter(pk=version.pk).update(status=Version.Status.PROCESSING)
    with _pg_connect() as live_run:
        live_run.execute("SELECT pg_advisory_lock(%s)", [PROCESSING_LOCK_BASE | version.pk])
        assert version_process(version_id=version.pk) is None
        assert not Fingerprint.objects.filter(pk=version.pk).exists()
    # Its connection closed: the run is gone once the server has ended that session (a moment later).
    wait_until(lambda: not _advisory_lock_held(PROCESSING_LOCK_BASE | version.pk), timeout=10, interval=0.05)
    assert version_process(version_id=version.pk) == "done"
    assert version_process(version_id=version.pk) is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayRedis:
    """A redis-server of this test's own, on its own port, that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        wait_until(lambda: self._answers(), timeout=10, interval=0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _use_broker(url: str) -> None:
    """Point this process's Celery app at another broker; kombu's cached connection pools are closed and forgotten."""
    celery_app.conf.broker_url = url
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_broker(live_broker, monkeypatch):
    redis = ThrowawayRedis()
    redis.start()
    previous = celery_app.conf.broker_url
    _use_broker(redis.url)
    monkeypatch.setenv("CELERY_BROKER_URL", redis.url)
    monkeypatch.setattr(processing, "_broker_down_until", 0.0)
    yield redis
    _use_broker(previous)
    redis.stop()


def test_uploads_made_while_the_broker_is_down_are_stored_and_processed_once_it_returns(
    client, uploader, own_broker, monkeypatch, tmp_path, caplog
):
    # The worker runs Celery beat too, sweeping every second for versions left waiting.
    monkeypatch.setenv("DUPFINDER_REQUEUE_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("DUPFINDER_REQUEUE_AFTER_SECONDS", "0")
    worker = start_worker("--pool=solo", "-n", "survivor@%h", "--beat", "-s", str(tmp_path / "beat-schedule"))
    try:
        own_broker.stop()
        source = source_get_or_create(name="Events portal")
        client.force_login(uploader)
        files = [SimpleUploadedFile(f"p{n}.jpg", encode(scene(400 + n), quality=90)) for n in range(4)]
        started = time.monotonic()
        response = client.post(reverse("upload"), {"source": source.pk, "files": files})
        assert response.status_code in (200, 302)
        assert time.monotonic() - started < 10
        stored = list(Version.objects.all())
        assert len(stored) == 4 and {v.status for v in stored} == {"pending"}
        assert all(default_storage.exists(v.file.name) for v in stored)
        assert "left waiting for the requeue sweep" in caplog.text

        own_broker.start()
        wait_until(lambda: not Version.objects.exclude(status="done").exists(), timeout=90)
    finally:
        stop_worker(worker)
    assert Fingerprint.objects.count() == 4


def _broker_client(redis: ThrowawayRedis):
    """A plain client of the throwaway broker, for the test to look at its queue and unacknowledged messages."""
    return kombu_redis.redis.Redis(host="127.0.0.1", port=redis.port, socket_timeout=2)


def _worker_holds_one_message_and_waits_for_more(redis: ThrowawayRedis) -> bool:
    """One message delivered and not yet acknowledged, the queue empty: the worker is running it and its BRPOP
    for the next one is pending, the moment kombu 5.7.0 could not survive losing the broker at."""
    try:
        client = _broker_client(redis)
        return client.hlen("unacked") == 1 and client.llen("celery") == 0
    except kombu_redis.redis.exceptions.ConnectionError:
        return False


def test_the_worker_survives_twenty_broker_outages_during_an_upload_burst_and_every_upload_ends_done(
    own_broker, monkeypatch, tmp_path
):
    # As `make run` starts it: a prefork pool of two with beat inside, sweeping every second for versions left
    # waiting (the throwaway broker keeps nothing across a restart, so queued messages are lost with it).
    monkeypatch.setenv("DUPFINDER_REQUEUE_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("DUPFINDER_REQUEUE_AFTER_SECONDS", "3")
    nodename = host_format(default_nodename("outages@%h"))
    worker = start_worker("--concurrency=2", "-n", nodename, "--beat", "-s", str(tmp_path / "beat-schedule"))
    uploads = 0

    def upload() -> None:
        nonlocal uploads
        store_file(f"burst/{uploads}.jpg", encode(scene(900 + uploads, (1200, 900)), quality=90))
        uploads += 1

    try:
        for outage in range(20):
            upload()
            wait_until(
                lambda: worker.poll() is not None or _worker_holds_one_message_and_waits_for_more(own_broker),
                timeout=60,
                interval=0.02,
            )
            assert worker.poll() is None, f"the worker exited after outage {outage}"
            own_broker.stop()
            upload()  # stored while the broker is down, left waiting for the sweep
            own_broker.start()
        wait_until(lambda: worker.poll() is not None or not Version.objects.exclude(status="done").exists(), 180)
        assert worker.poll() is None, "the worker exited after the last outage"
        assert celery_app.control.ping(destination=[nodename], timeout=5)
    finally:
        stop_worker(worker)
    assert Version.objects.filter(status="done").count() == uploads == 40
    assert Fingerprint.objects.count() == 40


def _worker_pid(nodename: str) -> int | None:
    """The process id of the worker answering to this node name, None while none answers."""
    stats = celery_app.control.inspect(destination=[nodename], timeout=1).stats() or {}
    return stats.get(nodename, {}).get("pid")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_runs_worker_is_started_again_when_it_dies_and_stopped_with_its_keeper(own_broker):
    nodename = host_format(default_nodename("kept@%h"))
    celery = str(Path(sys.executable).with_name("celery"))
    worker = [celery, "-A", "config", "worker", "--pool=solo", "--without-gossip", "--without-mingle", "-n", nodename]
    keeper = subprocess.Popen(
        ["bash", "scripts/keep_running.sh", *worker, "--loglevel=WARNING"],
        cwd=ROOT,
        env={**_worker_env(), "KEEP_RUNNING_DELAY": "0.2"},
    )
    try:
        first = wait_until(lambda: _worker_pid(nodename), timeout=30)
        os.kill(first, signal.SIGKILL)
        second = wait_until(lambda: (pid := _worker_pid(nodename)) != first and pid, timeout=60)
        assert celery_app.control.ping(destination=[nodename], timeout=5)
    finally:
        keeper.terminate()
        keeper.wait(timeout=30)
    assert keeper.returncode == 0
    assert not _alive(first) and not _alive(second)


def test_a_connection_closed_after_the_broker_vanished_mid_poll_gives_back_only_connection_errors(own_broker):
    """Celery's consumer on a lost broker: `collect()` and then `close()` of a connection whose channel holds an
    unacknowledged message while its BRPOP is pending, with a remote-control (fanout) channel opened after it."""
    connection = Connection(own_broker.url, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    channel = connection.default_channel
    work = Queue("work", routing_key="work")
    control = Queue("control", Exchange("control", type="fanout"), auto_delete=True)  # as the worker's pidbox
    work(channel).declare()
    Producer(channel, routing_key="work").publish({"n": 1})
    message = channel.basic_get("work", no_ack=False)
    assert message is not None and channel.qos._delivered  # delivered, not yet acknowledged
    Consumer(connection.channel(), [control], auto_declare=True, no_ack=True).consume()
    Consumer(channel, [work]).consume()
    connection.transport.cycle.on_poll_start()  # as the event loop: BRPOP sent on one, SUBSCRIBE on the other
    assert channel._in_poll
    own_broker.stop()

    connection.collect(socket_timeout=5)
    ignore_errors(connection, connection.close)  # before the guard: AttributeError ... 'hostname'
    assert channel.closed and connection._transport is None


# --- curators racing each other and new uploads -------------------------------------------------------------


@pytest.fixture
def cluster_of_two(make_user):
    """An open cluster of two copies, processed in this process; and the two curators."""
    picture = scene(500, (900, 700))
    a = store_file("a.jpg", encode(picture, quality=92))
    b = store_file("b.jpg", encode(picture.resize((450, 350)), quality=80))
    cluster = Cluster.objects.get(members__version=a)
    assert set(cluster.members.values_list("version_id", flat=True)) == {a.pk, b.pk}
    curators = make_user("alice"), make_user("bob")
    return cluster, a, b, picture, curators


def _race(*calls, timeout: float = 30) -> list:
    """Run the calls at the same moment in threads, each with its own database connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[n] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome of each side is what the test checks
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing call did not finish (deadlock?)"
    return results


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_two_curators_merging_one_cluster_at_once_one_wins_the_other_is_told(cluster_of_two, monkeypatch, with_token):
    cluster, a, b, _picture, (alice, bob) = cluster_of_two
    token = cluster_token(cluster) if with_token else None
    slow_table = review.merge_table

    def merge_table(**kwargs):
        time.sleep(0.3)  # the first merge holds the cluster while the second arrives
        return slow_table(**kwargs)

    monkeypatch.setattr(review, "merge_table", merge_table)
    results = _race(
        lambda: review.cluster_merge(cluster_id=cluster.pk, actor=alice, authoritative_id=a.pk, token=token),
        lambda: review.cluster_merge(cluster_id=cluster.pk, actor=bob, authoritative_id=b.pk, token=token),
    )
    winners = [n for n, r in enumerate(results) if isinstance(r, Cluster)]
    losers = [r for r in results if isinstance(r, review.ClusterConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    winner, authoritative = [(alice, a), (bob, b)][winners[0]]
    assert str(losers[0]).startswith(f"Already merged by {winner.username} at ")
    assert AuditEvent.objects.filter(action="cluster.merge").count() == 1
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.RESOLVED
    other = b if authoritative == a else a
    rows = {v.pk: v for v in Version.objects.all()}
    assert rows[authoritative.pk].duplicate_of_id is None and rows[other.pk].duplicate_of_id == authoritative.pk
    assert rows[a.pk].item_id == rows[b.pk].item_id == authoritative.item_id
    assert Item.objects.get(pk=authoritative.item_id).authoritative_version_id == authoritative.pk
    assert Item.objects.get(pk=other.item_id).merged_into_id == authoritative.item_id


def _assert_merge_whole_or_absent(cluster: Cluster, members: set[int]) -> str:
    """Every member is either fully merged by the one merge event or untouched; returns which case it was."""
    cluster.refresh_from_db()
    assert set(cluster.members.values_list("version_id", flat=True)) == members
    rows = {v.pk: v for v in Version.objects.select_related("item").filter(pk__in=members)}
    event = AuditEvent.objects.filter(action="cluster.merge", target_id=str(cluster.pk)).first()
    if event is None:
        assert cluster.status == Cluster.Status.OPEN
        assert all(v.duplicate_of_id is None and v.item.merged_into_id is None for v in rows.values())
        assert len({v.item_id for v in rows.values()}) == len(members)
        return "not merged"
    merged, authoritative = set(event.after["members"]), event.after["authoritative_version"]
    surviving = rows[authoritative].item_id
    for pk in merged:
        assert rows[pk].item_id == surviving
        assert rows[pk].duplicate_of_id == (None if pk == authoritative else authoritative)
    for pk in members - merged:  # arrived after the merge: left open in the cluster for the next review
        assert rows[pk].duplicate_of_id is None and rows[pk].item_id != surviving
        assert rows[pk].item.merged_into_id is None
    assert cluster.status == (Cluster.Status.RESOLVED if merged == members else Cluster.Status.OPEN)
    return "all merged" if merged == members else "new copy left open"


@pytest.mark.parametrize("order", ["merge-first", "upload-first", "together"])
def test_a_merge_racing_a_new_copy_into_the_cluster_is_never_half_applied(cluster_of_two, monkeypatch, order):
    cluster, a, b, picture, (alice, _bob) = cluster_of_two
    token = cluster_token(cluster)  # the curator's page was rendered before the new copy arrived
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    c = store_file("c.png", encode(picture, "PNG"))
    merged, processed = threading.Event(), threading.Event()
    if order == "merge-first":
        match_lock = matching.match_lock

        def late_lock() -> None:
            merged.wait(10)
            match_lock()

        monkeypatch.setattr(matching, "match_lock", late_lock)
    elif order == "upload-first":
        cluster_lock = review._cluster_lock

        def late_cluster_lock(**kwargs):
            processed.wait(10)
            return cluster_lock(**kwargs)

        monkeypatch.setattr(review, "_cluster_lock", late_cluster_lock)

    def merge():
        try:
            return review.cluster_merge(cluster_id=cluster.pk, actor=alice, authoritative_id=a.pk, token=token)
        finally:
            merged.set()

    def upload():
        try:
            return version_process(version_id=c.pk)
        finally:
            processed.set()

    merge_result, process_result = _race(merge, upload)
    assert process_result == "done"
    outcome = _assert_merge_whole_or_absent(cluster, {a.pk, b.pk, c.pk})
    if isinstance(merge_result, review.ClusterConflict):
        assert outcome == "not merged"
        assert "changed since you opened it" in str(merge_result)
    else:
        assert isinstance(merge_result, Cluster), merge_result
        assert outcome == "new copy left open"
    expected = {"merge-first": "new copy left open", "upload-first": "not merged"}
    assert outcome == expected.get(order, outcome)


def test_the_requeue_command_queues_versions_left_waiting(monkeypatch):
    queued = []
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    stuck = store_file("stuck.jpg", encode(scene(600), quality=90))
    monkeypatch.setattr(
        processing, "version_dispatch_processing", lambda *, version_id, **kw: queued.append(version_id)
    )
    out = io.StringIO()
    call_command("requeue_stuck", older_than=0, stdout=out)
    assert queued == [stuck.pk]
    assert "Versions queued again: 1" in out.getvalue()
    queued.clear()
    call_command("requeue_stuck", stdout=io.StringIO())  # default age: a fresh upload is not stuck yet
    assert queued == []


def test_the_sweep_waits_from_the_last_enqueue_not_the_upload_and_moves_queued_at(monkeypatch):
    queued = []
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    waiting = store_file("waiting.jpg", encode(scene(610), quality=90))
    stuck = store_file("stuck.jpg", encode(scene(611), quality=90))
    now = timezone.now()
    long_ago = now - timedelta(hours=2)
    Version.objects.update(uploaded_at=long_ago)
    Version.objects.filter(pk=waiting.pk).update(queued_at=now - timedelta(seconds=30))
    Version.objects.filter(pk=stuck.pk).update(queued_at=long_ago)
    monkeypatch.setattr(
        processing, "version_dispatch_processing", lambda *, version_id, **kw: queued.append(version_id)
    )

    assert processing.version_requeue_stuck(older_than_seconds=600, enqueue=lambda pk: None) == 1
    assert queued == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.queued_at >= now
    assert processing.version_requeue_stuck(older_than_seconds=600, enqueue=lambda pk: None) == 0  # queued once
    assert queued == [stuck.pk]


def test_a_version_never_queued_is_swept_by_its_upload_time_and_an_enqueue_records_the_time(monkeypatch):
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    version = store_file("never.jpg", encode(scene(612), quality=90))
    assert version.queued_at is None
    Version.objects.filter(pk=version.pk).update(uploaded_at=timezone.now() - timedelta(hours=1))
    monkeypatch.undo()
    queued = []
    assert processing.version_requeue_stuck(older_than_seconds=600, enqueue=queued.append) == 1
    first = Version.objects.get(pk=version.pk).queued_at
    processing.version_dispatch_processing(version_id=version.pk, enqueue=queued.append)  # an upload's enqueue
    assert queued == [version.pk, version.pk]
    assert Version.objects.get(pk=version.pk).queued_at > first


def test_a_version_another_sweep_holds_is_skipped_not_queued_twice(monkeypatch):
    queued = []
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    held = store_file("held.jpg", encode(scene(613), quality=90))
    free = store_file("free.jpg", encode(scene(614), quality=90))
    Version.objects.update(uploaded_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(
        processing, "version_dispatch_processing", lambda *, version_id, **kw: queued.append(version_id)
    )
    with _pg_connect(autocommit=False) as other_sweep:
        other_sweep.execute("SELECT id FROM collections_app_version WHERE id = %s FOR UPDATE", [held.pk])
        assert processing.version_requeue_stuck(older_than_seconds=600, enqueue=lambda pk: None) == 1
        other_sweep.rollback()
    assert queued == [free.pk]


def test_a_version_left_processing_by_a_run_that_is_gone_is_queued_at_once_and_a_held_one_is_not(monkeypatch):
    monkeypatch.setattr(processing, "version_dispatch_processing", lambda **kwargs: None)
    abandoned = store_file("abandoned.jpg", encode(scene(615), quality=90))
    held = store_file("held.jpg", encode(scene(616), quality=90))
    waiting = store_file("waiting.jpg", encode(scene(617), quality=90))
    Version.objects.exclude(pk=waiting.pk).update(status=Version.Status.PROCESSING)
    Version.objects.update(queued_at=timezone.now() - timedelta(seconds=30))  # queued moments ago
    queued = []
    monkeypatch.setattr(
        processing, "version_dispatch_processing", lambda *, version_id, **kw: queued.append(version_id)
    )
    with _pg_connect() as live_run:
        live_run.execute("SELECT pg_advisory_lock(%s)", [PROCESSING_LOCK_BASE | held.pk])
        # The default wait (DUPFINDER_REQUEUE_AFTER_SECONDS) applies to the waiting version only.
        assert processing.version_requeue_stuck(enqueue=lambda pk: None) == 1
        assert queued == [abandoned.pk]
    wait_until(lambda: not _advisory_lock_held(PROCESSING_LOCK_BASE | held.pk), timeout=10, interval=0.05)
    # Until a worker takes it, the abandoned version is queued on every sweep; the held one's run is gone now.
    assert processing.version_requeue_stuck(enqueue=lambda pk: None) == 2
    assert queued == [abandoned.pk, abandoned.pk, held.pk]
    assert Version.objects.get(pk=waiting.pk).queued_at < timezone.now() - timedelta(seconds=29)


def test_an_enqueue_failing_after_commit_leaves_the_version_waiting_without_an_error(monkeypatch, caplog):
    calls = []

    class BrokerDown:
        @staticmethod
        def delay(*args):
            calls.append(args)
            raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(processing, "_broker_down_until", 0.0)
    monkeypatch.setattr("dedup.tasks.process_version", BrokerDown)
    first = store_file("first.jpg", encode(scene(700), quality=90))
    second = store_file("second.jpg", encode(scene(701), quality=90))
    assert {first.status, second.status} == {"pending"}
    assert len(calls) == 1  # the second did not wait for a broker known to be down
    assert caplog.text.count("left waiting for the requeue sweep") == 2
