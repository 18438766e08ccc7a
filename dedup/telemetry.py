"""How long pair verification takes, counted by every worker on every host in the shared cache (Redis).

Workers are separate processes, often on other machines, so a Prometheus registry inside them would not reach
the web process that answers /metrics. Each process adds its observations to counters in the Django cache
(in production the broker's Redis, shared by all hosts), at most once a second; /metrics reads the totals.
A process that dies loses at most its last second. With the in-process cache (the demo) only that process counts.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache

# Upper bounds (seconds) of the histogram's buckets; pair verification takes 6-8 ms at the median.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
PREFIX = "dupfinder:metrics:verification"
FLUSH_SECONDS = 1.0
_FIELDS = ("count", "sum_us", *(f"le_{bound}" for bound in BUCKETS))

_lock = threading.Lock()
_pending: dict[str, int] = {}
_last_flush = 0.0


@contextmanager
def verification_timer() -> Iterator[None]:
    """Time one pair verification and count it."""
    start = time.perf_counter()
    try:
        yield
    finally:
        verification_observe(time.perf_counter() - start)


def verification_observe(seconds: float) -> None:
    global _last_flush
    with _lock:
        _add("count", 1)
        _add("sum_us", round(seconds * 1_000_000))
        for bound in BUCKETS:
            if seconds <= bound:
                _add(f"le_{bound}", 1)
        now = time.monotonic()
        if now - _last_flush < FLUSH_SECONDS:
            return
        _last_flush = now
        pending = dict(_pending)
        _pending.clear()
    _flush(pending)


def verification_flush() -> None:
    """Write what this process counted so far (tests, and before a process exits)."""
    with _lock:
        pending = dict(_pending)
        _pending.clear()
    _flush(pending)


def verification_totals() -> dict[str, int]:
    """Counts from every process: count, sum_us and le_<bound> (observations at or under each bound)."""
    stored = cache.get_many([f"{PREFIX}:{field}" for field in _FIELDS])
    return {field: int(stored.get(f"{PREFIX}:{field}", 0)) for field in _FIELDS}


def _add(field: str, amount: int) -> None:
    _pending[field] = _pending.get(field, 0) + amount


def _flush(pending: dict[str, int]) -> None:
    try:
        for field, amount in pending.items():
            key = f"{PREFIX}:{field}"
            cache.add(key, 0, timeout=None)
            cache.incr(key, amount)
    except Exception:  # noqa: BLE001 - a metric must never fail a verification
        return
