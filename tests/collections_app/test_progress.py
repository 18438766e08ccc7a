"""Long commands show a bar with rate and time left on a terminal and plain lines when writing to a log."""

import fcntl
import io
import os
import select
import struct
import termios

import pytest
from django.core.management import call_command

from collections_app.progress import LogProgress, progress
from tests.dedup.conftest import add_version  # noqa: F401
from tests.images import encode, scene


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_give_count_share_rate_and_time_left_every_interval_and_once_at_the_end():
    out, clock = io.StringIO(), Clock()
    bar = LogProgress(total=100, desc="Ingesting", unit="file", stream=out, interval=10, clock=clock)
    for _ in range(20):
        clock.now += 0.5
        bar.update()
    bar.close()
    bar.close()  # a second close writes nothing
    assert out.getvalue().splitlines() == [
        "Ingesting: 20/100 files (20%), 2.0 files/s, about 40 s left",
        "Ingesting: 20/100 files (20%), 2.0 files/s, done in 10 s",
    ]


def test_a_stream_that_is_not_a_terminal_gets_lines_and_a_terminal_gets_a_tqdm_bar():
    assert isinstance(progress([1, 2], desc="x", stream=io.StringIO()), LogProgress)
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    with os.fdopen(secondary, "w") as terminal:
        for _ in progress(range(3), desc="Reclaiming", stream=terminal):
            pass
        terminal.flush()
        shown = ""
        while select.select([primary], [], [], 0.2)[0]:
            shown += os.read(primary, 4096).decode()
    os.close(primary)
    assert "Reclaiming: 100%" in shown and "3/3" in shown and "file/s" in shown and "\r" in shown


@pytest.mark.django_db
def test_ingest_writes_progress_lines_to_a_log(tmp_path):
    for n in range(3):
        (tmp_path / f"{n}.jpg").write_bytes(encode(scene(90 + n), quality=85))
    err = io.StringIO()
    call_command("ingest", str(tmp_path), "--source", "Archive", stdout=io.StringIO(), stderr=err)
    assert "Ingesting: 3/3 files (100%)" in err.getvalue() and "done in" in err.getvalue()


@pytest.mark.django_db
def test_rebuild_clusters_writes_progress_lines_for_the_pairs_it_verifies(add_version):  # noqa: F811
    picture = scene(93, (400, 300))
    add_version("a.jpg", encode(picture, quality=90))
    add_version("b.jpg", encode(picture.resize((300, 225)), quality=80))
    err = io.StringIO()
    call_command("rebuild_clusters", stdout=io.StringIO(), stderr=err)
    assert "Verifying: 1/1 pairs (100%)" in err.getvalue()
