"""The reports' small known collection, reused: a resolved cluster of three, an open pair, a unique picture."""

from tests.dedup.conftest import add_version  # noqa: F401
from tests.dedup.review.conftest import cluster3  # noqa: F401
from tests.reports.conftest import collection, file_stores  # noqa: F401
