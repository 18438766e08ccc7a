"""The Celery application; configuration comes from Django settings under the CELERY_ namespace."""

import os
from queue import Empty

import kombu.transport
from celery import Celery
from kombu.transport import redis as kombu_redis

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


# This module is imported (config/__init__.py) before any broker connection resolves its transport.
kombu.transport.TRANSPORT_ALIASES.update(redis=f"{__name__}:RedisTransport", rediss=f"{__name__}:RedisTransport")

app = Celery("dupfinder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
