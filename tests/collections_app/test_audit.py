"""The audit trail refuses changes through the ORM."""

import pytest

from collections_app.models import AppendOnlyError, AuditEvent, Source
from collections_app.services import audit_record

pytestmark = pytest.mark.django_db


def test_audit_event_cannot_be_changed_or_deleted():
    event = audit_record(actor=None, action="test.action", target=Source.objects.create(name="S"))
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""
