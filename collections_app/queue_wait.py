"""Waiting at the command line for work queued to the Celery workers (`ingest --wait`, `refingerprint --wait`)."""

import time
from collections.abc import Callable
from typing import IO

from celery import current_app as celery_app  # config/__init__.py makes the project's app current

from collections_app.progress import progress

# Nothing finished for this long: ask whether any worker is still there.
STALL_SECONDS = 30
POLL_SECONDS = 0.3


class WorkersGone(Exception):
    """Nothing finished for STALL_SECONDS and no worker answers; the work stays queued."""


class WaitTimedOut(Exception):
    """The wait ran out with `remaining` of the work unfinished."""

    def __init__(self, remaining: int) -> None:
        super().__init__(remaining)
        self.remaining = remaining


def workers_answering(timeout: float = 2.0) -> bool:
    try:
        return bool(celery_app.control.ping(timeout=timeout))
    except Exception:
        return False


def queued_work_wait(
    *, total: int, finished: Callable[[], int], timeout: float, desc: str, unit: str, stream: IO[str]
) -> None:
    """Return once `finished()` (read from the database) reaches `total`, with a progress bar on `stream`.

    Raises WorkersGone when nothing moves and no worker answers, WaitTimedOut after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    last_finished, last_progress = -1, time.monotonic()
    with progress(total=total, desc=desc, unit=unit, stream=stream) as bar:
        while True:
            done = finished()
            bar.update(done - bar.n)
            if done >= total:
                return
            if done != last_finished:
                last_finished, last_progress = done, time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS and not workers_answering():
                raise WorkersGone
            if time.monotonic() > deadline:
                raise WaitTimedOut(total - done)
            time.sleep(POLL_SECONDS)
