"""What detection does when the catalogue below it signals (connected in DedupConfig.ready)."""

from typing import Any

from dedup import services, tasks


def processing_requested(*, version_id: int, inline: bool = False, **_kwargs: Any) -> None:
    services.version_dispatch_processing(version_id=version_id, inline=inline, enqueue=tasks.process_version.delay)


def preview_wanted(*, version_id: int, **_kwargs: Any) -> str:
    return services.version_preview_ensure(version_id=version_id)
