"""Progress of a long management command: a bar with rate and time left on a terminal, plain lines in a log.

One helper for every command (`ingest`, `refingerprint`, `rebuild_clusters`, `reclaim_storage`, `check_fixity`):

    with progress(total=len(items), desc="Reclaiming", unit="file", stream=self.stderr) as bar:
        for item in items:
            ...
            bar.update()

or `for item in progress(items, desc=..., stream=...)`. On a terminal this is tqdm; when the stream is not a
terminal (systemd's journal, cron mail, a file) it writes a line such as
`Reclaiming: 120/400 files (30%), 8.2 files/s, about 34 s left` every DUPFINDER_PROGRESS_SECONDS (10) seconds
and one when done, so a log shows how far a run got without a carriage return per file.
"""

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from tqdm import tqdm

INTERVAL_SECONDS = float(os.environ.get("DUPFINDER_PROGRESS_SECONDS", "10"))


def _is_terminal(stream: Any) -> bool:
    stream = getattr(stream, "_out", stream)  # Django's OutputWrapper keeps the real stream here
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class LogProgress:
    """The plain-lines counterpart of tqdm, with the part of its interface the commands use."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        *,
        total: int | None,
        desc: str,
        unit: str,
        stream: IO[str],
        interval: float = INTERVAL_SECONDS,
        clock=time.monotonic,
    ) -> None:
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.stream, self.interval, self.clock = stream, interval, clock
        self.n = 0
        self.started = self.last_line = clock()
        self.closed = False

    def __iter__(self) -> Iterator:
        for item in self.iterable or ():
            yield item
            self.update()
        self.close()

    def __enter__(self) -> "LogProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self._line(now)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._line(self.clock(), done=True)

    def line(self, now: float, *, done: bool = False) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.n / elapsed
        count = f"{self.n}/{self.total}" if self.total is not None else str(self.n)
        parts = [f"{self.desc}: {count} {self.unit}s"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        parts.append(f"{rate:.1f} {self.unit}s/s")
        if done:
            parts.append(f"done in {_duration(elapsed)}")
        elif self.total and rate > 0:
            parts.append(f"about {_duration((self.total - self.n) / rate)} left")
        return ", ".join(parts)

    def _line(self, now: float, *, done: bool = False) -> None:
        self.stream.write(self.line(now, done=done) + "\n")
        self.stream.flush()


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str = "file",
    stream: IO[str] = sys.stderr,
) -> Any:
    """A tqdm bar on a terminal, LogProgress lines otherwise; iterate it, or `update()` it inside `with`."""
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if _is_terminal(stream):
        return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True)
    return LogProgress(iterable, total=total, desc=desc, unit=unit, stream=stream)


class _Silent:
    n = 0

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


def no_progress(**_kwargs: Any) -> _Silent:
    """For services called outside a command: nothing shown."""
    return _Silent()


# What a service that reports progress takes: `progress` with its stream bound, or `no_progress`.
Progress = Callable[..., Any]
