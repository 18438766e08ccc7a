"""Demo and development settings: embedded SQLite and filesystem broker unless the environment says otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    # The filesystem broker sleeps polling_interval (kombu's default 1 s) whenever it finds no message it may
    # take, which with one message prefetched per process is after every task: a pause of up to a second per
    # file. The folder is listed once per message taken, and an empty one 100 times a second costs next to nothing.
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "polling_interval": 0.01}  # noqa: F405
