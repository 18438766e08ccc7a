"""API clients for each role, authenticated by token as another system would be."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api_as(role_user):
    tokens: dict[str, Token] = {}

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role:
            if role not in tokens:
                tokens[role] = Token.objects.create(user=role_user(role))
            client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[role].key}")
        return client

    return make


from tests.dedup.conftest import add_version  # noqa: E402,F401 - stores and processes a version in-process
