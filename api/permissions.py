"""Role permissions for the API: every action names the Django permission it needs; none means refused."""

from rest_framework.permissions import BasePermission

MODEL_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def required_permissions(view) -> list[str] | None:
    """The view's `action_permissions` for its action, else the model permission its action implies."""
    action = getattr(view, "action", None) or view.request.method.lower()
    explicit = getattr(view, "action_permissions", {})
    if action in explicit:
        return list(explicit[action])
    queryset = getattr(view, "queryset", None)
    if action in MODEL_ACTIONS and queryset is not None:
        opts = queryset.model._meta
        return [f"{opts.app_label}.{MODEL_ACTIONS[action]}_{opts.model_name}"]
    return None


class RolePermission(BasePermission):
    """Signed in, and holding every permission the action needs (roles are groups, see collections_app.roles)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method == "OPTIONS":
            return True
        perms = required_permissions(view)
        return perms is not None and request.user.has_perms(perms)
