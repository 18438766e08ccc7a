"""Schema-driven fuzzing: requests generated from /api/v1/schema/ never get a server error."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

from config.wsgi import application

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 6


@pytest.fixture
def keep_connection():
    """As Django's test client does: the WSGI app must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_operation_answers_with_a_5xx(role_user, pair_for_fuzz, keep_connection):
    auth = {"Authorization": f"Token {Token.objects.create(user=role_user('administrator')).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, headers=auth)
    failures = []
    for result in schema.get_all_operations():
        _fuzz(result.ok(), auth, failures)
    assert not failures, "\n".join(failures[:10])


def _fuzz(operation, auth: dict, failures: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(headers=auth)
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {response.status_code} {case.as_curl_command()}")

    check()


@pytest.fixture
def pair_for_fuzz(add_version):
    from tests.images import encode, scene

    picture = scene(5)
    add_version("a.jpg", encode(picture))
    add_version("b.png", encode(picture, "PNG"), source="Archive")
