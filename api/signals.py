"""A changed password revokes every API token of the user.

Django sends no signal for a password change, so a pre_save handler on the user model compares the stored
password hash with the one being saved: `set_password()` followed by `save()` (the password-change and
password-reset pages, the admin, `manage.py changepassword`) and `set_unusable_password()` all change it.
The one change that is not a new password is Django re-hashing the same password at sign-in when the preferred
hasher or its work factor changed (`AbstractBaseUser.check_password`); that one keeps the tokens.
"""

from django.conf import settings
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.db.models.signals import pre_save
from django.dispatch import receiver

from api.services import tokens_revoke_all


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="api.tokens_revoke_on_password_change")
def tokens_revoke_on_password_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is None or stored == instance.password or _is_rehash(stored, instance):
        return
    tokens_revoke_all(user=instance)


def _is_rehash(stored: str, instance) -> bool:
    """Django's own upgrade of the hash: it clears the raw password it set (`_password`) and saves a hash made
    by the preferred hasher where the stored one needed updating."""
    if getattr(instance, "_password", None) is not None:
        return False
    try:
        old, new = identify_hasher(stored), identify_hasher(instance.password)
    except ValueError:
        return False
    preferred = get_hasher()
    outdated = old.algorithm != preferred.algorithm or preferred.must_update(stored)
    return outdated and new.algorithm == preferred.algorithm
