"""Admin for the catalogue; the audit trail is read-only."""

from django.contrib import admin

from collections_app.models import AuditEvent, AuthorityRequest, ImportedMetadata, IngestBatch, Item, Source, Version


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trust_priority"]
    list_editable = ["trust_priority"]
    search_fields = ["name"]


class VersionInline(admin.TabularInline):
    model = Version
    fields = ["original_path", "source", "format", "width", "height", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["identifier", "title", "title_zh", "creator", "date", "created_at"]
    search_fields = ["identifier", "title", "title_zh", "creator"]
    # Changed only through audited services: records officers' choice and curators' merges.
    readonly_fields = ["authoritative_version", "merged_into", "provenance"]
    inlines = [VersionInline]


class ImportedMetadataInline(admin.StackedInline):
    model = ImportedMetadata
    readonly_fields = ["origin", "data", "imported_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin):
    list_display = ["original_path", "source", "format", "width", "height", "byte_size", "status", "uploaded_at"]
    list_filter = ["status", "source", "format"]
    search_fields = ["original_path", "original_filename", "sha256"]
    list_select_related = ["source"]
    raw_id_fields = ["item", "batch", "uploader"]
    readonly_fields = [
        "sha256",
        "byte_size",
        "format",
        "width",
        "height",
        "status",
        "error_code",
        "error_params",
        "processed_at",
    ]
    inlines = [ImportedMetadataInline]


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    list_display = ["pk", "label", "source", "created_by", "created_at"]
    list_select_related = ["source", "created_by"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: these rows are written by audited services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_id", "reason"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "target_id", "reason"]


@admin.register(AuthorityRequest)
class AuthorityRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are decided on the item page, where the decision is audited."""

    list_display = ["item", "version", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["item", "version", "requested_by", "decided_by"]
