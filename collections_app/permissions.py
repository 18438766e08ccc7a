"""View guards: anonymous visitors go to the sign-in page, signed-in users without the permission get 403."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required


def require_perm(perm: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorate
