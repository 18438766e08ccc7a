"""Grant the reports, legal-hold and quarantine permissions to their roles."""

from django.db import migrations

from collections_app.roles import roles_sync


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0005_version_reclamation"),
        ("dedup", "0004_review_roles"),
        ("reports", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync, migrations.RunPython.noop)]
