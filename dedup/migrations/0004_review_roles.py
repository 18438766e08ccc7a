"""Grant curators the review permissions (view and change clusters)."""

from django.db import migrations

from collections_app.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0002_item_merged_into_item_provenance_and_more"),
        ("dedup", "0003_clusterskip"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
