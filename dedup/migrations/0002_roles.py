"""Create the role groups (viewer, uploader, curator, records officer, administrator) with their permissions."""

from django.db import migrations

from collections_app.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("collections_app", "0001_initial"),
        ("dedup", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
