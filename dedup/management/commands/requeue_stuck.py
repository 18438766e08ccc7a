"""`manage.py requeue_stuck [--older-than SECONDS]`: queue again versions a broker outage or killed worker left."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from dedup.services import version_requeue_stuck
from dedup.tasks import process_version


class Command(BaseCommand):
    help = (
        "Queue again the versions still waiting or processing some time after they were queued (the broker was down, "
        "or a worker was killed); for cron where Celery beat does not run. Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="SECONDS",
            help="Only versions queued (or uploaded) at least this long ago (default: DUPFINDER_REQUEUE_AFTER_SECONDS)",
        )

    def handle(self, *args, older_than=None, **options):
        count = version_requeue_stuck(older_than_seconds=older_than, enqueue=process_version.delay)
        self.stdout.write(_("Versions queued again: %(count)d") % {"count": count})
