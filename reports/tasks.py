"""Celery tasks for the dashboard: thin wrappers around one service."""

from celery import shared_task

from reports.tallies import tallies_kept, tallies_refresh


@shared_task(ignore_result=True)
def fold_dashboard_tallies() -> int:
    """Scheduled fold of the changes gathered since the last one (Celery beat), so a visitor rarely waits for
    it; returns how many clusters were recomputed."""
    return tallies_refresh() if tallies_kept() else 0
