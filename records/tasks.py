"""Celery tasks for records officers' scheduled work: thin wrappers around one service."""

from celery import shared_task
from django.conf import settings

from records.fixity import fixity_check_run


@shared_task(ignore_result=True)
def check_fixity() -> int:
    """Scheduled fixity check (Celery beat) of DUPFINDER_FIXITY_SAMPLE files; returns how many failed."""
    report = fixity_check_run(sample=settings.DUPFINDER_FIXITY_SAMPLE or None, actor="scheduled fixity check")
    return len(report.problems)
