"""Schema-driven fuzzing with every schemathesis check: the API answers as /api/v1/schema/ says it does.

Requests are generated from the schema, valid and invalid ones, and each answer is checked for its status code
(documented), content type, headers and body (as the schema describes it), that valid requests are accepted and
invalid ones refused, that a request without credentials is refused, and that no answer is a server error.
"""

import copy
import json
import secrets
from datetime import timedelta

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, settings
from knox.crypto import hash_token
from knox.models import AuthToken
from schemathesis.config import SchemathesisConfig

from config.wsgi import application

pytestmark = pytest.mark.django_db

# Per operation, bounded so the whole run stays well under two minutes (the coverage phase adds its own
# boundary cases: each enum value, each limit, each missing field).
EXAMPLES_PER_OPERATION = 6
SEQUENCES, STEPS_PER_SEQUENCE = 10, 6

# A schema cannot say whether a referenced row exists, whether a name is taken, whether the bytes of a file
# are a readable image or CSV, whether a cluster holds a version, or whether a password is right. These
# operations (all POST) answer 400 for such requests, documented in the schema, and that 400 is accepted for
# data that is valid by the schema alone; every other operation must accept every valid request.
REFUSED_FOR_WHAT_THE_SCHEMA_CANNOT_SAY = {
    "/api/v1/token/": "a username and password that do not match",
    "/api/v1/sources/": "a name another source has",
    "/api/v1/batches/": "a source id that does not exist",
    "/api/v1/batches/{id}/sidecar/": "a file that is not a readable CSV",
    "/api/v1/uploads/": "a source or batch id that does not exist, or neither given",
    "/api/v1/verify/": "a file that is not a readable image",
    "/api/v1/clusters/{id}/merge/": "a version that is not in the cluster",
    "/api/v1/clusters/{id}/split/": "a version that is not in the cluster",
    "/api/v1/clusters/{id}/undo/": "a cluster with nothing to undo",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' own default

CONFIG = f"""
[generation]
mode = "all"
max-examples = {EXAMPLES_PER_OPERATION}
deterministic = true
# Text never holds U+0000 (PostgreSQL cannot store it): the schema says so once, in its description, rather
# than as a pattern on every string, and a request with one is refused with 400.
allow-x00 = false

[checks]
enabled = true
""" + "".join(
    f"""
[[operations]]
include-path = "{path}"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = {ACCEPTED + ["400"]}
"""
    for path in REFUSED_FOR_WHAT_THE_SCHEMA_CANNOT_SAY
)


class AdministratorToken:
    """The administrator's token for every request under test.

    Its value is fixed for the run because schemathesis writes it into the requests it builds when the tests
    are collected (the coverage phase's); the token row is made at the start of each test and made again
    when a request under test revoked it (`POST /api/v1/tokens/logout-all/`).
    """

    token = secrets.token_hex(32)
    user = None

    def start(self, user) -> None:
        self.user = user
        self.live()

    def live(self) -> str:
        digest = hash_token(self.token)
        if self.user is not None and not AuthToken.objects.filter(digest=digest).exists():
            expiry = timezone.now() + timedelta(hours=django_settings.DUPFINDER_API_TOKEN_TTL_HOURS)
            AuthToken(digest=digest, token_key=self.token[:15], user=self.user, expiry=expiry).save()
        return self.token


ADMINISTRATOR = AdministratorToken()


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


@pytest.fixture
def as_administrator(role_user, pair_for_fuzz, keep_connection):
    """Requests signed in as the administrator; yields the list the test puts each answer's status in."""
    ADMINISTRATOR.start(role_user("administrator"))
    statuses: list[int] = []
    yield statuses
    cache.clear()  # the fuzzed token endpoint counted sign-in failures for the test client's address
    # Every request carries the token: a 401 would mean it was refused, and the checks would prove little.
    assert 401 not in statuses, f"{statuses.count(401)} of {len(statuses)} requests were refused as not signed in"


def _served_schema() -> dict:
    """The schema /api/v1/schema/ serves, made by the same generator at import: schemathesis parametrizes the
    test by operation when it is collected."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


SERVED = _served_schema()
schema = schemathesis.openapi.from_dict(copy.deepcopy(SERVED), config=SchemathesisConfig.from_str(CONFIG))
schema.app = application  # answered by the WSGI application in-process


@schema.auth(refresh_interval=None)
class AdministratorAuth:
    def get(self, case, context) -> str:
        return ADMINISTRATOR.live()

    def set(self, case, token: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}


@schema.parametrize()
# The fixtures hold for every request of an operation: the requests share the rows they create, as clients do.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case, as_administrator):
    ADMINISTRATOR.live()
    as_administrator.append(case.call_and_validate().status_code)


def test_sequences_of_operations_answer_as_the_schema_says(as_administrator):
    """Operations chained by the links schemathesis infers from paths and fields (as its command line does): a
    created batch is read, a listed cluster acted on, so requests reach rows that exist, one after another."""
    schema.analysis.inject_links()

    class Sequences(schema.as_state_machine()):
        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            as_administrator.append(response.status_code)

    Sequences.run(
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS_PER_SEQUENCE,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_the_fuzzed_schema_is_the_one_the_api_serves(api_as):
    served = api_as("viewer").get("/api/v1/schema/?format=json")
    assert served.status_code == 200 and served.json() == SERVED


@pytest.fixture
def pair_for_fuzz(add_version):
    from tests.images import encode, scene

    picture = scene(5, (200, 150))  # small: processing it is most of each operation's set-up
    add_version("a.jpg", encode(picture))
    add_version("b.png", encode(picture, "PNG"), source="Archive")
