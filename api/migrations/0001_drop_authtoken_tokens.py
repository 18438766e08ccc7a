"""Drop the permanent, plain-text tokens of rest_framework.authtoken: knox's expiring hashed tokens replace them.

Clients sign in again at /api/v1/token/ (README, "API"). The migration records of the removed app go too, so
installing it again would create its table afresh.
"""

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder

OLD_TABLE = "authtoken_token"


def drop_authtoken(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE in connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")
    recorder = MigrationRecorder(connection)
    if recorder.has_table():
        recorder.migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [("knox", "0009_extend_authtoken_field")]

    operations = [migrations.RunPython(drop_authtoken, migrations.RunPython.noop)]
