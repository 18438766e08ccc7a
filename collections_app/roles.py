"""Roles are Django groups; this table says which permissions each one holds."""

VIEW = ["view_source", "view_item", "view_version", "view_importedmetadata", "view_ingestbatch", "view_auditevent"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "viewer": [f"collections_app.{c}" for c in VIEW]
    + [
        "dedup.view_fingerprint",
        "collections_app.verify_copy",
        "reports.view_reports",
    ],
    "uploader": ["collections_app.add_version", "collections_app.add_item", "collections_app.add_ingestbatch"],
    "curator": ["collections_app.change_item", "dedup.view_cluster", "dedup.change_cluster"],
    "records_officer": [
        "collections_app.mark_authoritative",
        "collections_app.approve_authoritative",
        "collections_app.view_authorityrequest",
        "collections_app.set_legal_hold",
        "collections_app.export_records",
    ],
    "administrator": [
        "collections_app.add_source",
        "collections_app.change_source",
        "collections_app.change_version",
        "reports.view_quarantined_file",
    ],
}
# Each role also holds everything of the roles before it in this order.
ROLE_ORDER = ["viewer", "uploader", "curator", "records_officer", "administrator"]


def role_permission_names(role: str) -> list[str]:
    names: list[str] = []
    for name in ROLE_ORDER[: ROLE_ORDER.index(role) + 1]:
        names += ROLE_PERMISSIONS[name]
    return names


def roles_sync(apps, schema_editor=None) -> None:
    """Create the groups and grant their permissions; safe to run from every migration that adds permissions."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs have no models module, which create_permissions would skip; the
        # original value is put back so a call with the live registry (tests) leaves it intact.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role in ROLE_ORDER:
        group, _created = group_model.objects.get_or_create(name=role)
        for dotted in role_permission_names(role):
            app_label, codename = dotted.split(".")
            permission = permission_model.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission:
                group.permissions.add(permission)
