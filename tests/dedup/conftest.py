"""Helpers that store and process versions in-process (tasks run eagerly in unit tests)."""

import io

import pytest

from collections_app.services import source_get_or_create, version_ingest
from dedup.services import version_process


@pytest.fixture
def add_version(db):
    def add(name: str, data: bytes, source: str = "Photo Unit"):
        outcome = version_ingest(
            fileobj=io.BytesIO(data),
            original_filename=name.rsplit("/", 1)[-1],
            original_path=name,
            source=source_get_or_create(name=source),
        )
        assert outcome.created, outcome.message
        version_process(version_id=outcome.version.pk)
        outcome.version.refresh_from_db()
        return outcome.version

    return add
