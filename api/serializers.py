"""Input and output shapes of the API; the writes themselves happen in services."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collections_app.failures import skipped_reason
from collections_app.models import IngestBatch, Item, SidecarRow, Source, Version
from dedup.models import Cluster, ClusterMember, Fingerprint, MatchKind
from dedup.reasons import reason_fields
from dedup.review.selectors import MERGE_FIELDS
from records.statement import kind_words


def hex64(value: int | None) -> str | None:
    return None if value is None else f"{value & 0xFFFFFFFFFFFFFFFF:016x}"


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name", "kind", "trust_priority", "description"]


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = [
            "id",
            "identifier",
            "title",
            "title_zh",
            "description",
            "creator",
            "date",
            "subjects",
            "rights",
            "authoritative_version",
            "merged_into",
            "provenance",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["authoritative_version", "merged_into", "provenance", "created_at", "updated_at"]


class FingerprintSerializer(serializers.ModelSerializer):
    """Hashes as 16 hexadecimal digits (64 bits)."""

    phash = serializers.SerializerMethodField()
    dhash = serializers.SerializerMethodField()
    phash_trimmed = serializers.SerializerMethodField()
    phash_dihedral = serializers.SerializerMethodField()

    class Meta:
        model = Fingerprint
        fields = ["phash", "dhash", "phash_trimmed", "phash_dihedral", "mode", "bit_depth", "page_count", "captured_at"]

    def get_phash(self, obj: Fingerprint) -> str:
        return hex64(obj.phash) or ""

    def get_dhash(self, obj: Fingerprint) -> str:
        return hex64(obj.dhash) or ""

    def get_phash_trimmed(self, obj: Fingerprint) -> str | None:
        return hex64(obj.phash_trimmed)

    def get_phash_dihedral(self, obj: Fingerprint) -> list[str]:
        return [hex64(v) or "" for v in obj.phash_dihedral]


class VersionSerializer(serializers.ModelSerializer):
    fingerprint = serializers.SerializerMethodField()
    source_name = serializers.CharField(source="source.name", read_only=True)
    # None for files ingested from the command line (`manage.py ingest`).
    uploader = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    error = serializers.CharField(source="error_text", read_only=True, help_text="Why processing failed, in words.")

    class Meta:
        model = Version
        fields = [
            "id",
            "item",
            "original_filename",
            "original_path",
            "source",
            "source_name",
            "batch",
            "uploader",
            "uploaded_at",
            "byte_size",
            "sha256",
            "format",
            "width",
            "height",
            "status",
            "error_code",
            "error_params",
            "error",
            "processed_at",
            "duplicate_of",
            "parent",  # a page of a PDF: the document's version, and which page (null otherwise)
            "page_number",
            "fingerprint",
        ]

    @extend_schema_field(FingerprintSerializer(allow_null=True))
    def get_fingerprint(self, obj: Version) -> dict | None:
        fingerprint = getattr(obj, "fingerprint", None)
        return FingerprintSerializer(fingerprint).data if fingerprint else None


class ClusterMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClusterMember
        fields = ["version", "kind", "score", "added_at"]


class ClusterSerializer(serializers.ModelSerializer):
    members = ClusterMemberSerializer(many=True, read_only=True)
    token = serializers.SerializerMethodField(
        help_text=_("Send back with an action to refuse it if the cluster changed.")
    )

    class Meta:
        model = Cluster
        fields = ["id", "status", "confidence", "member_count", "created_at", "updated_at", "token", "members"]

    def get_token(self, obj: Cluster) -> str:
        return obj.updated_at.isoformat()


class ActionSerializer(serializers.Serializer):
    # Blank is allowed and means no token: a form sends an empty field for one it leaves out.
    token = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text=_("The cluster's token, optional.")
    )

    def validate_token(self, value: str) -> str | None:
        return value or None


def _per_merge_field(value: dict) -> dict:
    """An object whose keys are the item fields a merge sets (any other key is refused)."""
    return {"type": "object", "properties": dict.fromkeys(MERGE_FIELDS, value), "additionalProperties": False}


# Classes rather than decorated instances: a serializer copies its fields by building them anew.
@extend_schema_field(_per_merge_field({"type": "string", "minLength": 1, "maxLength": 20}))
class MergeChoicesField(serializers.DictField):
    child = serializers.CharField(max_length=20)


@extend_schema_field(_per_merge_field({"type": "string", "minLength": 1, "maxLength": 5000}))
class MergeCustomField(serializers.DictField):
    child = serializers.CharField(max_length=5000)


class MergeSerializer(ActionSerializer):
    authoritative = serializers.IntegerField(help_text=_("Id of the version to keep as authoritative."))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    choices = MergeChoicesField(
        required=False,
        help_text=_("Field name to the id of the version whose value is kept, or 'union' for subjects."),
    )
    custom = MergeCustomField(required=False, help_text=_("Field name to a typed value."))

    def validate(self, attrs: dict) -> dict:
        for key in ("choices", "custom"):
            unknown = set(attrs.get(key, {})) - set(MERGE_FIELDS)
            if unknown:
                raise serializers.ValidationError({key: _("Unknown fields: %s") % ", ".join(sorted(unknown))})
        return attrs


class SplitSerializer(ActionSerializer):
    version = serializers.IntegerField(help_text=_("Id of the version to take out of the cluster."))


class SidecarRowSerializer(serializers.ModelSerializer):
    problems = serializers.ListField(
        source="problem_texts", child=serializers.CharField(), read_only=True, help_text=_("In the reader's language.")
    )
    problem_codes = serializers.JSONField(
        source="problems", read_only=True, help_text=_("The same problems as stored: code and parameters.")
    )

    class Meta:
        model = SidecarRow
        fields = ["line", "filename", "outcome", "problems", "problem_codes", "applied_to", "data"]


class BatchSerializer(serializers.ModelSerializer):
    total = serializers.IntegerField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    waiting = serializers.IntegerField(read_only=True)
    # None for batches started from the command line (`manage.py ingest`).
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    skipped = serializers.SerializerMethodField(
        help_text="Files not stored: path, reason code, its parameters and the reason in the reader's language."
    )
    channel = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField(help_text="The batch as pages name it, in the reader's language.")

    class Meta:
        model = IngestBatch
        fields = [
            "id",
            "label",
            "channel",
            "name",
            "source",
            "created_by",
            "created_at",
            "total",
            "done",
            "failed",
            "waiting",
            "skipped",
        ]
        read_only_fields = ["created_at"]

    def get_skipped(self, obj) -> list[dict]:
        return [{**row, "reason": skipped_reason(row)} for row in obj.skipped]

    def get_name(self, obj) -> str:
        return str(obj)


class BatchDetailSerializer(BatchSerializer):
    sidecar_rows = SidecarRowSerializer(many=True, read_only=True)

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "sidecar_rows"]


class SidecarUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A CSV with a filename column and Dublin Core columns."))


class UploadSerializer(serializers.Serializer):
    """One or many files into a batch: an existing one, or a new one for the source given."""

    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False, min_length=1)
    # No length limit here: a path longer than the catalogue keeps is refused by the upload service for that
    # file alone, with the reason, and kept on the batch's list of refusals.
    paths = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text=_("Relative path of each file, in the same order (e.g. a folder's structure)."),
    )
    source = serializers.PrimaryKeyRelatedField(queryset=Source.objects.all(), required=False)
    batch = serializers.PrimaryKeyRelatedField(queryset=IngestBatch.objects.all(), required=False)
    label = serializers.CharField(required=False, allow_blank=True, max_length=300)
    metadata = serializers.FileField(required=False, help_text=_("Optional sidecar CSV describing the files."))

    def validate_files(self, files: list) -> list:
        if len(files) > settings.DATA_UPLOAD_MAX_NUMBER_FILES:
            raise serializers.ValidationError(_("Too many files in one request."))
        return files

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("source") and not attrs.get("batch"):
            raise serializers.ValidationError(_("Give a source (for a new batch) or an existing batch."))
        if attrs.get("paths") and len(attrs["paths"]) != len(attrs["files"]):
            raise serializers.ValidationError({"paths": _("Give one path per file, or none.")})
        return attrs


class FileResultSerializer(serializers.Serializer):
    path = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "already_ingested", "refused", "sidecar"])
    message = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    item = serializers.IntegerField(allow_null=True)
    rows = serializers.IntegerField()
    already_in_collection = serializers.DictField(allow_null=True, required=False)


class UploadResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    batch_url = serializers.CharField()
    files = FileResultSerializer(many=True)


class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The copy to check; it is fingerprinted in memory and never stored.")


class VerifiedVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    original_filename = serializers.CharField()
    source = serializers.CharField(source="source.name")
    uploaded_at = serializers.DateTimeField()
    format = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    byte_size = serializers.IntegerField()
    sha256 = serializers.CharField()


class VerifiedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    identifier = serializers.CharField()
    title = serializers.CharField()
    title_zh = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(obj.get_absolute_url())


class DifferenceSerializer(serializers.Serializer):
    field = serializers.CharField()
    submitted = serializers.CharField()
    authoritative = serializers.CharField()


class MatchedVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    kind = serializers.ChoiceField(choices=MatchKind.choices)
    kind_label = serializers.SerializerMethodField(help_text="The kind of match in words, in the reader's language.")
    score = serializers.FloatField()
    authoritative = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField(
        help_text="Why verification called it a copy, as a code (blank for an exact copy)."
    )
    reason_params = serializers.SerializerMethodField(
        help_text="The numbers the reason names (coverage, correlation, local_difference)."
    )
    reason_text = serializers.SerializerMethodField(help_text="The reason in words, in the reader's language.")

    def get_kind_label(self, obj) -> str:
        return kind_words(obj.kind)

    def get_reason(self, obj) -> str:
        return reason_fields(obj.evidence)["reason"]

    @extend_schema_field(serializers.DictField())
    def get_reason_params(self, obj) -> dict:
        return reason_fields(obj.evidence)["reason_params"]

    def get_reason_text(self, obj) -> str:
        return reason_fields(obj.evidence)["reason_text"]

    def get_authoritative(self, obj) -> bool:
        return obj.version == self.context["answer"].authoritative


class AuthorityDecisionSerializer(serializers.Serializer):
    """How the authoritative version came to be chosen, from the audit trail."""

    how = serializers.ChoiceField(choices=["chosen", "approved", "merged", "uploaded"])
    chosen_by = serializers.CharField(source="actor")
    requested_by = serializers.CharField()
    chosen_at = serializers.DateTimeField(source="at")
    reason = serializers.CharField()
    audit_event = serializers.IntegerField(source="event_id")


class ItemAnswerSerializer(serializers.Serializer):
    item = VerifiedItemSerializer()
    kind = serializers.ChoiceField(choices=MatchKind.choices)
    kind_label = serializers.SerializerMethodField(help_text="The kind of match in words, in the reader's language.")
    is_authoritative = serializers.BooleanField()
    authoritative_kind = serializers.CharField()
    authoritative_version = VerifiedVersionSerializer(source="authoritative", allow_null=True)
    differences = DifferenceSerializer(many=True)
    matched_versions = serializers.SerializerMethodField()
    authority = AuthorityDecisionSerializer(source="decision", allow_null=True)
    statement = serializers.SerializerMethodField(help_text="What this file is, in plain words (reader's language).")
    authority_statement = serializers.SerializerMethodField(help_text="Who chose the authoritative version, when.")
    reason_statement = serializers.SerializerMethodField(help_text="The reason on record, in words.")

    def get_kind_label(self, obj) -> str:
        return kind_words(obj.kind)

    def _words(self, obj):
        return self.context["words"][obj.item.pk]

    def get_statement(self, obj) -> str:
        return self._words(obj).verdict

    def get_authority_statement(self, obj) -> str:
        return self._words(obj).decision

    def get_reason_statement(self, obj) -> str:
        return self._words(obj).reason

    @extend_schema_field(MatchedVersionSerializer(many=True))
    def get_matched_versions(self, obj) -> list[dict]:
        return MatchedVersionSerializer(obj.matches, many=True, context={**self.context, "answer": obj}).data


class SubmittedCopySerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    byte_size = serializers.IntegerField()
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class VerificationSerializer(serializers.Serializer):
    """The answer to "is this copy the official one?"."""

    matched = serializers.BooleanField()
    is_authoritative = serializers.SerializerMethodField()
    checked_at = serializers.DateTimeField()
    chain_head = serializers.CharField(help_text="The audit trail's head hash when the check was made.")
    submitted = SubmittedCopySerializer()
    items = ItemAnswerSerializer(many=True)
    stored = serializers.SerializerMethodField()

    def get_is_authoritative(self, obj) -> bool:
        return any(a.is_authoritative for a in obj.items)

    def get_stored(self, obj) -> bool:
        return False


class VerifyErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


class SignInSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send as “Authorization: Token <token>”. Shown once; only a hash is kept.")
    )
    id = serializers.CharField(source="key", help_text=_("Names the token in /api/v1/tokens/, to revoke it."))
    expiry = serializers.DateTimeField(help_text=_("When the token stops working; sign in again for a new one."))


class TokenSerializer(serializers.Serializer):
    """One of the signed-in user's tokens (never the token itself, which is not stored)."""

    id = serializers.CharField(source="token_key")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(help_text=_("Whether this request was made with this token."))

    def get_current(self, obj) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return getattr(auth, "digest", None) == obj.digest


class ErrorSerializer(serializers.Serializer):
    """An error in words."""

    detail = serializers.CharField()
