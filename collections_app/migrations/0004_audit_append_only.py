"""Chain the existing audit events, make the table append-only in PostgreSQL, grant records officers their rights."""

from django.db import migrations

from collections_app.audit import event_digest
from collections_app.roles import roles_sync

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION collections_app_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'collections_app_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER auditevent_append_only
    BEFORE UPDATE OR DELETE ON collections_app_auditevent
    FOR EACH ROW EXECUTE FUNCTION collections_app_auditevent_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS auditevent_append_only ON collections_app_auditevent;
DROP FUNCTION IF EXISTS collections_app_auditevent_append_only();
"""


def chain_existing(apps, schema_editor):
    event_model = apps.get_model("collections_app", "AuditEvent")
    previous = ""
    for event in event_model.objects.order_by("pk").iterator(chunk_size=2000):
        digest = event_digest(event, previous)
        event_model.objects.filter(pk=event.pk).update(previous_hash=previous, entry_hash=digest)
        previous = digest


def trigger_create(apps, schema_editor):
    # SQLite has no such trigger language; there the model's save() and delete() refuse instead.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def trigger_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("collections_app", "0003_audit_chain_authority"),
        ("dedup", "0004_review_roles"),
    ]

    operations = [
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RunPython(trigger_create, trigger_drop),
        migrations.RunPython(roles_sync, migrations.RunPython.noop),
    ]
