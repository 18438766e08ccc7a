"""API clients for each role, authenticated by token as another system would be."""

import pytest
from rest_framework.test import APIClient

from api.services import token_issue


@pytest.fixture
def api_as(role_user):
    tokens: dict[str, str] = {}

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role:
            if role not in tokens:
                tokens[role] = token_issue(user=role_user(role)).token
            client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[role]}")
        return client

    return make


from tests.dedup.conftest import add_version  # noqa: E402,F401 - stores and processes a version in-process
