"""Admin views of matching state, read-only: clusters, edges and refingerprint requests change only through the
review and matching services, which write the audit trail."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from collections_app.failures import failure_text
from dedup.models import Cluster, ClusterMember, MatchEdge, RefingerprintRequest


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    show_full_result_count = False  # no second count over millions of rows


class ClusterMemberInline(ReadOnly, admin.TabularInline):
    model = ClusterMember
    fields = ["version", "kind", "score", "added_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(ReadOnlyAdmin):
    list_display = ["pk", "status", "member_count", "confidence", "created_at", "updated_at"]
    list_filter = ["status", "has_exact", "has_near", "has_rotated"]
    inlines = [ClusterMemberInline]


@admin.register(MatchEdge)
class MatchEdgeAdmin(ReadOnlyAdmin):
    list_display = ["version_a", "version_b", "is_duplicate", "kind", "score", "created_at"]
    list_filter = ["is_duplicate", "kind"]
    list_select_related = ["version_a", "version_b"]


@admin.register(RefingerprintRequest)
class RefingerprintRequestAdmin(ReadOnlyAdmin):
    list_display = ["version", "requested_at", "reason"]
    list_select_related = ["version"]

    @admin.display(description=_("why the old fingerprint was kept"))
    def reason(self, request: RefingerprintRequest) -> str:
        return failure_text(request.error_code, request.error_params) if request.error_code else _("queued")
