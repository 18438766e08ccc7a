"""Helpers that store and process versions in-process (tasks run eagerly in unit tests)."""

import pytest

from dedup.services import version_process
from tests.conftest import store_file


@pytest.fixture
def add_version(db):
    def add(name: str, data: bytes, source: str = "Photo Unit"):
        version = store_file(name, data, source=source)
        version_process(version_id=version.pk)
        version.refresh_from_db()
        return version

    return add
