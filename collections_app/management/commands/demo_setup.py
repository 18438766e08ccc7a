"""`manage.py demo_setup`: demo logins (one per role) and a small generated set of images with duplicates."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from collections_app.demo import write_demo_images
from collections_app.roles import ROLE_ORDER

DEMO_PASSWORD = "demo-pass-2026"


class Command(BaseCommand):
    help = "Create one demo login per role and write demo images under var/demo (for `make run`)."

    def handle(self, *args, **options):
        users = get_user_model()
        # A second records officer, so approval (DUPFINDER_AUTHORITY_APPROVAL) can be tried.
        logins = [(role.replace("_", ""), role) for role in ROLE_ORDER] + [("recordsofficer2", "records_officer")]
        for username, role in logins:
            user, _created = users.objects.get_or_create(username=username)
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == "administrator"
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        folder = Path(settings.DATA_DIR) / "demo"
        count = write_demo_images(folder)
        self.stdout.write(f"Wrote {count} demo images to {folder}")
        self.stdout.write(
            "Demo logins (password %s): %s" % (DEMO_PASSWORD, ", ".join(username for username, _role in logins))
        )
