"""Load test: concurrent uploaders and reviewers against gunicorn, PostgreSQL, Redis and a real Celery worker.

Run from the repository root (PostgreSQL and Redis on loopback, as for the test suite):

    .venv/bin/python -m bench.load --seconds 60 --uploaders 4 --reviewers 2

Everything runs on 127.0.0.1: a database of its own (dropped afterwards unless --keep), a throwaway
redis-server, a temporary media folder, gunicorn with production settings, and one worker. Uploaders send
one JPEG per request to the API, half of them copies of earlier pictures so that clusters form; reviewers
list the queue, open a cluster and merge it, as two curators would. Printed per kind of request:
throughput, median and 95th-percentile latency, conflicts (409, expected when reviewers race) and errors;
then how many uploads the worker finished and their upload-to-done latency. Not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from tests.images import scene

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# --- pictures -------------------------------------------------------------------------------------------


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# --- HTTP -----------------------------------------------------------------------------------------------


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts += [head.encode(), content, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    conflicts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int, detail: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if status == 409:
                self.conflicts[kind] += 1
            elif not 200 <= status < 300:
                self.errors[kind] += 1
                if len(self.samples) < 5:
                    self.samples.append(f"{kind} {status} {detail[:200]}")


class Client:
    def __init__(self, base: str, token: str, stats: Stats) -> None:
        self.base, self.token, self.stats = base, token, stats

    def call(self, kind: str, method: str, path: str, body: bytes | None = None, ctype: str = "") -> dict | None:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if ctype:
            request.add_header("Content-Type", ctype)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            payload, status = exc.read(), exc.code
        except OSError as exc:  # refused, reset, timed out
            self.stats.record(kind, time.perf_counter() - started, 0, repr(exc))
            return None
        self.stats.record(kind, time.perf_counter() - started, status, payload.decode(errors="replace"))
        return json.loads(payload) if 200 <= status < 300 and payload else None


def uploader(client: Client, source_id: int, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    sent: list[int] = []
    n = 0
    while time.monotonic() < deadline:
        if sent and rng.random() < 0.5:  # a copy: smaller and recompressed, of an earlier picture
            base = rng.choice(sent)
            data = jpeg(scene(base, (800, 600)).resize((400, 300)), quality=rng.choice((60, 75)))
        else:
            base = seed * 100_000 + n
            sent.append(base)
            data = jpeg(scene(base, (800, 600)), quality=90)
        n += 1
        path = f"load/{seed}/{n}.jpg"
        body, ctype = multipart({"source": str(source_id), "paths": path}, {"files": (f"{n}.jpg", data)})
        client.call("upload", "POST", "/api/v1/uploads/", body, ctype)


def reviewer(client: Client, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        queue = client.call("queue", "GET", "/api/v1/clusters/?status=open")
        clusters = (queue or {}).get("results", [])
        if not clusters:
            time.sleep(0.5)
            continue
        chosen = rng.choice(clusters[:5])  # reviewers often pick the same top clusters: conflicts happen
        cluster = client.call("cluster", "GET", f"/api/v1/clusters/{chosen['id']}/")
        if not cluster or not cluster["members"]:
            continue
        body = json.dumps({"authoritative": cluster["members"][0]["version"], "token": cluster["token"]}).encode()
        client.call("merge", "POST", f"/api/v1/clusters/{chosen['id']}/merge/", body, "application/json")


# --- the stack ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up within {timeout:.0f} s")


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True  # 401 without a token: the server is up
    except OSError:
        return False


def database_recreate(args: argparse.Namespace, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=args.pg_port, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{args.database}"')


def environment(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=uuid.uuid4().hex * 2,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_DATA_DIR=str(data_dir),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{args.pg_port}/{args.database}",
        CELERY_BROKER_URL=args.redis,
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_accounts(*, uploaders: int, reviewers: int) -> dict:
    """Users with tokens, in the load database; runs in this process once Django is configured."""
    from django.contrib.auth.models import Group, User

    from api.services import token_issue
    from collections_app.models import Source

    def account(name: str, role: str) -> str:
        user = User.objects.create_user(name, password=uuid.uuid4().hex)
        user.groups.add(Group.objects.get(name=role))
        return token_issue(user=user).token

    source = Source.objects.create(name="Load test")
    return {
        "source": source.pk,
        "uploaders": [account(f"uploader{n}", "uploader") for n in range(uploaders)],
        "reviewers": [account(f"curator{n}", "curator") for n in range(reviewers)],
    }


def processing_figures(since) -> dict:
    from django.db.models import Count

    from collections_app.models import Version
    from dedup.models import Cluster

    versions = Version.objects.filter(uploaded_at__gte=since)
    statuses = dict(versions.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    waits = sorted(
        (v.processed_at - v.uploaded_at).total_seconds()
        for v in versions.filter(status="done").only("uploaded_at", "processed_at")
    )
    return {
        "statuses": statuses,
        "p50": statistics.median(waits) if waits else None,
        "p95": percentile(waits, 95) if waits else None,
        "clusters": dict(Cluster.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def report(stats: Stats, seconds: float, processing: dict, drained: float) -> None:
    print(
        f"\n{'request':<8} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'409':>5} {'errors':>6}"
    )
    for kind in ("upload", "queue", "cluster", "merge"):
        values = stats.latencies.get(kind, [])
        if not values:
            continue
        print(
            f"{kind:<8} {len(values):>6} {len(values) / seconds:>7.2f} {statistics.median(values) * 1000:>8.0f} "
            f"{percentile(values, 95) * 1000:>8.0f} {max(values) * 1000:>8.0f} "
            f"{stats.conflicts.get(kind, 0):>5} {stats.errors.get(kind, 0):>6}"
        )
    print(f"errors in all: {sum(stats.errors.values())}")
    for sample in stats.samples:
        print("  e.g.", sample)
    statuses = processing["statuses"]
    done = statuses.get("done", 0)
    print(
        f"\nworker: {sum(statuses.values())} versions stored, {done} done, {statuses.get('failed', 0)} failed, "
        f"{statuses.get('pending', 0) + statuses.get('processing', 0)} still waiting "
        f"({drained:.0f} s after the load stopped)"
    )
    if processing["p95"] is not None:
        print(
            f"upload-to-done latency: p50 {processing['p50']:.2f} s, p95 {processing['p95']:.2f} s; "
            f"processing throughput {done / (seconds + drained):.2f} versions/s"
        )
    print(f"clusters by status: {processing['clusters']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="How long the load runs.")
    parser.add_argument("--uploaders", type=int, default=4)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--worker-concurrency", type=int, default=1, help="Celery worker processes.")
    parser.add_argument("--drain", type=float, default=30, help="Seconds to let the worker catch up afterwards.")
    parser.add_argument("--database", default="dupfinder_load")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--redis", default="", help="Broker URL (default: a throwaway redis-server of its own).")
    parser.add_argument("--keep", action="store_true", help="Keep the database and media folder.")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dupfinder-load-"))
    processes: list[subprocess.Popen] = []
    if not args.redis:
        redis_port = free_port()
        args.redis = f"redis://127.0.0.1:{redis_port}/0"
        processes.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
        )
    env = environment(args, data_dir)
    os.environ.update(env)
    database_recreate(args)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from config.celery_app import app as celery_app

        call_command("migrate", verbosity=0)
        accounts = setup_accounts(uploaders=args.uploaders, reviewers=args.reviewers)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        logs = data_dir / "logs"
        logs.mkdir()
        processes.append(
            subprocess.Popen(
                [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}"]
                + ["-w", str(args.web_workers), "--timeout", "120", "--log-level", "warning"],
                cwd=ROOT,
                env=env,
                stdout=(logs / "gunicorn.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        processes.append(
            subprocess.Popen(
                [str(BIN / "celery"), "-A", "config", "worker", "--loglevel=WARNING", "--without-gossip"]
                + ["--without-mingle", f"--concurrency={args.worker_concurrency}", "-n", "load@%h"],
                cwd=ROOT,
                env=env,
                stdout=(logs / "worker.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_for(lambda: answers(f"{base}/api/v1/sources/"), 30, "gunicorn")
        wait_for(lambda: bool(celery_app.control.ping(timeout=0.5)), 30, "the Celery worker")
        print(
            f"load: {args.uploaders} uploaders, {args.reviewers} reviewers for {args.seconds:.0f} s against {base} "
            f"(gunicorn x{args.web_workers}, worker x{args.worker_concurrency}, database {args.database})"
        )

        from django.utils import timezone

        since = timezone.now()
        stats = Stats()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=uploader, args=(Client(base, token, stats), accounts["source"], deadline, n))
            for n, token in enumerate(accounts["uploaders"])
        ] + [
            threading.Thread(target=reviewer, args=(Client(base, token, stats), deadline, 1000 + n))
            for n, token in enumerate(accounts["reviewers"])
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

        from collections_app.models import Version

        stopped = time.monotonic()
        drain_deadline = stopped + args.drain
        while (
            time.monotonic() < drain_deadline and Version.objects.filter(status__in=["pending", "processing"]).exists()
        ):
            time.sleep(0.5)
        report(stats, elapsed, processing_figures(since), time.monotonic() - stopped)
    finally:
        for process in reversed(processes):  # the broker last
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_recreate(args, drop_only=True)
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"kept: database {args.database}, files and logs in {data_dir}")


if __name__ == "__main__":
    main()
