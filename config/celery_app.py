"""The Celery application; configuration comes from Django settings under the CELERY_ namespace."""

import os
import time
import uuid
from queue import Empty

import kombu.transport
from celery import Celery
from kombu.exceptions import ChannelError
from kombu.transport import filesystem as kombu_filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, made to close cleanly after the broker went away (kombu 5.7.0, redis-py 8.1.0).

    When the worker learns of a lost broker from another socket than the pending BRPOP (the remote-control
    channel, a failed publish), kombu's `close` first reads that BRPOP reply and the read's ConnectionError
    aborts the close before unacknowledged messages are handed back. `Connection.collect` then detaches the
    transport from its connection, and the second close that `Connection.close` makes restores them through a
    new pool built from the detached connection: AttributeError("'NoneType' object has no attribute
    'hostname'") in `_connparams`, which Celery does not treat as a connection error, so the worker exits.

    Here the close goes on past a dead BRPOP, so the first close hands the messages back (or, the broker being
    down, leaves them in Redis's unacked set for the visibility timeout), and a channel whose transport is
    detached fails with a connection error, which Celery recovers from. tests/test_reliability.py shows both.
    """

    def close(self) -> None:
        self._closing = True
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors:
                pass  # the BRPOP socket died with the broker: there is no reply left to read
        super().close()

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            # A connection error is one Celery recovers from (it reconnects); the unacknowledged messages stay
            # in Redis and come back after the visibility timeout.
            raise kombu_redis.redis.exceptions.ConnectionError("The broker connection was closed.")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    """The Redis transport with `RedisChannel`; redis:// and rediss:// broker URLs use it."""

    Channel = RedisChannel


class FilesystemChannel(kombu_filesystem.Channel):
    """kombu's filesystem channel (the embedded broker of `make run`), publishing each message whole.

    kombu 5.7.0 creates the message file under its final name and then writes it, while a consumer takes a
    file by renaming it and reads it at once: a consumer polling between the two reads an empty file, and the
    JSONDecodeError stops the worker (seen while pings were sent to a starting worker, as `scripts/run.sh` does).
    Here the message is written under a name no queue matches and renamed into place, which is atomic within
    one folder. tests/test_embedded.py shows it.
    """

    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # kombu's naming: FIFO by name
        path = os.path.join(self.data_folder_out, name)
        try:
            with open(f"{path}.part", "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(f"{path}.part", path)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc


class FilesystemTransport(kombu_filesystem.Transport):
    """The filesystem transport with `FilesystemChannel`; filesystem:// broker URLs use it."""

    Channel = FilesystemChannel


# This module is imported (config/__init__.py) before any broker connection resolves its transport.
kombu.transport.TRANSPORT_ALIASES.update(redis=f"{__name__}:RedisTransport", rediss=f"{__name__}:RedisTransport")
kombu.transport.TRANSPORT_ALIASES.update(filesystem=f"{__name__}:FilesystemTransport")

app = Celery("dupfinder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
