"""An identifier or accession number is one line of visible text, from every way it arrives."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from collections_app.models import Item
from collections_app.sidecar import csv_parse
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

REFUSED = ["HK-1\r\nSet-Cookie: x=1", "HK-1\n2", "HK\t1", "HK\x001", "HK\x1b[31m1", "HK-\u202egpj.1", "HK\u20281"]
ACCEPTED = ["HKMA 1962/7", "香港歷史檔案館 HKRS-41-1", 'LR "A" 1962', "O'Brien-3", "HK\\1;=2"]


@pytest.mark.parametrize("identifier", REFUSED)
def test_an_identifier_with_a_control_character_is_refused_by_the_model(identifier):
    with pytest.raises(ValidationError) as refused:
        Item(identifier=identifier).full_clean()
    assert refused.value.message_dict["identifier"] == [
        "An identifier may not contain line breaks, tabs or other control characters."
    ]


@pytest.mark.parametrize("identifier", ACCEPTED)
def test_identifiers_with_spaces_quotes_slashes_and_chinese_are_accepted(identifier):
    Item(identifier=identifier).full_clean()


def test_the_admin_refuses_an_identifier_with_a_line_break_and_keeps_the_item_as_it_was(client, role_user):
    item = ItemFactory(identifier="HKRS-1", title="Harbour")
    admin_user = role_user("administrator", "admin-user")
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    url = reverse("admin:collections_app_item_change", args=[item.pk])
    formset = client.get(url).context["inline_admin_formsets"][0].formset
    data = {
        "identifier": "HKRS-1\r\nX",
        "title": "Harbour",
        "subjects": "[]",
        "created_at_0": "2026-01-01",
        "created_at_1": "10:00:00",
        f"{formset.prefix}-TOTAL_FORMS": "0",
        f"{formset.prefix}-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "An identifier may not contain line breaks, tabs or other control characters." in response.content.decode()
    item.refresh_from_db()
    assert item.identifier == "HKRS-1"


def test_a_sidecar_identifier_with_a_line_break_is_reported_and_the_rest_of_the_row_applies():
    content = b'filename,identifier,title\r\nharbour.jpg,"HKRS-1\r\nSet-Cookie: x=1",Harbour at night\r\n'
    (row,), _notes = csv_parse(content)
    assert row["values"] == {"title": "Harbour at night"}
    assert row["problems"] == [{"code": "sidecar_identifier_control", "params": {}}]
