"""The 403, 404 and 500 pages: the site's layout, the reader's language, and what to do instead."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogue():
    """The Chinese catalogue compiled, as scripts/test.sh does (and tests/test_translations.py when run alone)."""
    from django.core.management import call_command

    from tests.test_translations import SOURCE_IGNORE

    call_command("compilemessages", locale=["zh_Hant"], ignore_patterns=list(SOURCE_IGNORE), verbosity=0)


@pytest.fixture(autouse=True)
def fresh_translations(settings):
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)  # empties Django's translation cache


def test_a_missing_page_says_what_to_do_instead_in_the_sites_layout(client, role_user):
    client.force_login(role_user("viewer"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html and "There is nothing at this address" in html
    assert 'href="/items/"' in html  # search the catalogue instead


def test_a_missing_page_is_in_chinese_for_a_chinese_reader(client, role_user):
    client.force_login(role_user("viewer"))
    client.cookies["django_language"] = "zh-hant"
    html = client.get("/no-such-page/").content.decode()
    assert "There is nothing at this address" not in html
    assert 'lang="zh-hant"' in html


def test_a_page_the_role_does_not_include_says_who_is_signed_in_and_what_to_ask_for(client, make_user):
    client.force_login(make_user("visitor"))
    response = client.get("/items/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not open this page" in html and "visitor" in html
    assert "Ask an administrator for the role you need" in html


def test_the_server_error_page_is_written_without_the_database(django_assert_num_queries):
    request = RequestFactory().get("/anything/")
    with translation.override("zh-hant"), django_assert_num_queries(0):
        response = defaults.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="topbar"' in html and "/static/css/app.css" in html
    assert "Something went wrong on our side" not in html  # translated
    with translation.override("en"):
        assert "Something went wrong on our side" in defaults.server_error(request).content.decode()


def test_the_server_error_page_gives_the_time_as_every_other_page_does(settings):
    """The time to tell an administrator: the site's zone and format, with the zone named."""
    from datetime import UTC, datetime
    from unittest import mock

    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Hong_Kong"
    request = RequestFactory().get("/anything/")
    moment = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # 10:30 in Hong Kong
    with mock.patch.object(timezone, "now", return_value=moment), translation.override("en"):
        english = defaults.server_error(request).content.decode()
    with mock.patch.object(timezone, "now", return_value=moment), translation.override("zh-hant"):
        chinese = defaults.server_error(request).content.decode()
    assert "05/03/2026 10:30 (Hong Kong time)" in english
    assert "2026年3月5日 10:30（香港時間）" in chinese
