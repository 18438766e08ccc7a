"""Catalogue models: where files come from, the objects they depict, each stored file and the audit trail."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.failures import problem_text
from collections_app.validators import validate_identifier
from dedup.imaging.formats import PDF, SUFFIXES


class Source(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        PORTAL = "portal", _("Portal")
        LEGACY = "legacy", _("Legacy system")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    # Higher wins when the authoritative version is suggested.
    trust_priority = models.IntegerField(_("trust priority"), default=0)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-trust_priority", "name"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return self.name


# PostgreSQL hands out identifier numbers from this sequence: never the same twice, however many hosts ask.
IDENTIFIER_SEQUENCE = "collections_app_item_identifier_seq"


class IdentifierCounter(models.Model):
    """The last identifier number given out, for databases without sequences (SQLite, the embedded default)."""

    series = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series}: {self.value}"


def _next_identifier_number() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [IDENTIFIER_SEQUENCE])
            return cursor.fetchone()[0]
    with transaction.atomic():  # SQLite's IMMEDIATE transactions serialise the increment
        IdentifierCounter.objects.get_or_create(series="item")
        IdentifierCounter.objects.filter(series="item").update(value=F("value") + 1)
        return IdentifierCounter.objects.get(series="item").value


def _new_identifier() -> str:
    """The next number in DUPFINDER_IDENTIFIER_PATTERN, e.g. DR-2026-000123; one typed in by hand is skipped."""
    while True:
        number = _next_identifier_number()
        identifier = settings.DUPFINDER_IDENTIFIER_PATTERN.format(year=timezone.localdate().year, number=number)
        if not Item.objects.filter(identifier=identifier).exists():
            return identifier


# The curated values of an item, in the order every export and merge shows them.
CURATED_FIELDS = ("title", "title_zh", "description", "creator", "date", "subjects", "rights")


class Item(models.Model):
    """The intellectual object; its fields are the curated values."""

    identifier = models.CharField(
        _("identifier or accession number"),
        max_length=200,
        unique=True,
        default=_new_identifier,
        validators=[validate_identifier],
    )
    title = models.CharField(_("title (English)"), max_length=500, blank=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    creator = models.CharField(_("creator"), max_length=300, blank=True)
    date = models.CharField(_("date"), max_length=100, blank=True, help_text=_("As written, e.g. 1962 or c. 1950s."))
    subjects = models.JSONField(_("subjects"), default=list, blank=True)
    rights = models.TextField(_("rights"), blank=True)
    authoritative_version = models.ForeignKey(
        "Version",
        verbose_name=_("authoritative version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # An item merged into another keeps its identifier and redirects to the surviving item.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_items",
    )
    # Where each curated value came from: {field: {"version": id} | {"versions": [ids]} | {"user": name}}.
    provenance = models.JSONField(_("provenance"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        permissions = [
            ("mark_authoritative", _("Can mark a version of an item authoritative")),
            ("approve_authoritative", _("Can approve another officer's choice of authoritative version")),
            ("verify_copy", _("Can check whether a copy matches the collection")),
            ("export_records", _("Can download archival packages (BagIt) and PREMIS event logs")),
        ]
        # The catalogue lists newest first; search indexes are in migration 0010 (PostgreSQL only).
        indexes = [models.Index(fields=["-created_at", "-id"], name="item_newest_first")]

    def __str__(self) -> str:
        return f"{self.identifier} {self.title or self.title_zh}".strip()

    def get_absolute_url(self) -> str:
        return reverse("item-detail", args=[self.pk])


class IngestBatch(models.Model):
    """One upload or folder ingest; progress is counted from its versions' statuses."""

    class Channel(models.TextChoices):
        """How the files came in: stored as a code, named in the reader's language."""

        WEB = "web", _("Web upload")
        API = "api", _("API upload")
        FOLDER = "folder", _("Folder import")
        CATALOGUE_CSV = "catalogue_csv", _("Catalogue CSV import")

    # What the sender called the batch, or the folder or file it came from; blank for an unnamed upload.
    label = models.CharField(_("label"), max_length=300, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    source = models.ForeignKey(Source, verbose_name=_("source"), on_delete=models.PROTECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    skipped = models.JSONField(_("skipped files"), default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")

    def __str__(self) -> str:
        channel = self.get_channel_display() if self.channel else ""
        if channel and self.label:
            return _("%(channel)s: %(label)s") % {"channel": channel, "label": self.label}
        return self.label or channel or f"#{self.pk}"


def version_upload_to(instance: "Version", filename: str) -> str:
    # The suffix follows the decoded format, never the uploaded name: "photo.html" holding a PNG is stored as .png.
    suffix = SUFFIXES.get(instance.format) or PurePath(filename).suffix.lower()[:10]
    return timezone.now().strftime(f"originals/%Y/%m/%d/{uuid.uuid4().hex}{suffix}")


class Version(models.Model):
    """One stored file of an item, with where it came from and what processing found."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="versions")
    file = models.FileField(_("file"), upload_to=version_upload_to, max_length=300)
    original_filename = models.CharField(_("original filename"), max_length=500)
    original_path = models.CharField(
        _("original path"), max_length=1000, blank=True, help_text=_("Path relative to the ingested folder.")
    )
    source = models.ForeignKey(Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="versions")
    batch = models.ForeignKey(
        IngestBatch, verbose_name=_("batch"), null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploader"), null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now, db_index=True)
    byte_size = models.BigIntegerField(_("file size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    format = models.CharField(_("format"), max_length=20, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    status = models.CharField(
        _("processing status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Why processing failed, as a code (dedup.imaging.errors.Failure) and its parameters; words at display time.
    error_code = models.CharField(_("processing error"), max_length=40, blank=True)
    error_params = models.JSONField(_("processing error details"), default=dict, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # When processing was last put on the queue; the requeue sweep waits this long, not the upload's age,
    # so a version still waiting its turn in a backlog is not queued again on every sweep.
    queued_at = models.DateTimeField(_("last queued"), null=True, blank=True)
    # Set by a curator's merge: this file is kept, but the authoritative copy is the other one.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    # A page of a PDF: its own version (own item, cluster and authority) stored as the one file of its document,
    # the version `parent`, which is not fingerprinted itself. Both are null for every other version.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pages",
    )
    page_number = models.PositiveIntegerField(_("page"), null=True, blank=True)
    # Storage reclamation (reports app): a superseded file may move to quarantine storage and later be purged;
    # the row, its fingerprint, metadata and thumbnails stay. A legal hold keeps the file where it is.
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    quarantined_at = models.DateTimeField(_("moved to quarantine"), null=True, blank=True)
    quarantine_name = models.CharField(_("name in quarantine storage"), max_length=300, blank=True)
    purged_at = models.DateTimeField(_("deleted for good"), null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        permissions = [("set_legal_hold", _("Can place or lift a legal hold on a version"))]
        indexes = [
            # The versions list, newest first (migration 0010 holds the search indexes).
            models.Index(fields=["-uploaded_at", "-id"], name="version_newest_first"),
            # The requeue sweep's lookup: unfinished versions by when they were last queued.
            models.Index(
                Coalesce("queued_at", "uploaded_at"),
                condition=models.Q(status__in=["pending", "processing"]),
                name="version_requeue_due",
            ),
        ]
        constraints = [
            # Re-running an ingest of the same folder must not create the same version twice.
            models.UniqueConstraint(
                fields=["source", "original_path", "sha256"],
                condition=~models.Q(original_path=""),
                name="version_unique_source_path_content",
            ),
            models.CheckConstraint(condition=models.Q(byte_size__gte=0), name="version_byte_size_non_negative"),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True, page_number__isnull=True)
                | models.Q(parent__isnull=False, page_number__gte=1),
                name="version_page_has_document_and_number",
            ),
            models.UniqueConstraint(
                fields=["parent", "page_number"],
                condition=models.Q(parent__isnull=False),
                name="version_unique_document_page",
            ),
            models.CheckConstraint(
                condition=models.Q(purged_at__isnull=True) | models.Q(quarantined_at__isnull=False),
                name="version_purged_only_from_quarantine",
            ),
        ]

    def __str__(self) -> str:
        return self.original_path or self.original_filename

    def get_absolute_url(self) -> str:
        return reverse("item-detail", args=[self.item_id])

    @property
    def pixel_count(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def is_page(self) -> bool:
        return self.page_number is not None

    @property
    def is_document(self) -> bool:
        """A PDF stored once for its pages: the pages are fingerprinted and matched, not the document."""
        return self.format == PDF and self.page_number is None

    @property
    def bytes_key(self) -> str:
        """What "the same bytes" means for matching: the file's checksum, and for a page also its number."""
        return self.sha256 if self.page_number is None else f"{self.sha256}#page={self.page_number}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def error_text(self) -> str:
        """Why processing failed, in the active language; blank when it did not."""
        from collections_app.failures import failure_text  # the words need translations, loaded after models

        return failure_text(self.error_code, self.error_params) if self.error_code else ""


class ImportedMetadata(models.Model):
    """Metadata exactly as it came with a version (EXIF, IPTC, XMP, sidecar); never edited."""

    class Origin(models.TextChoices):
        EMBEDDED = "embedded", _("Embedded in the file (EXIF/IPTC/XMP)")
        SIDECAR = "sidecar", _("Sidecar CSV")
        FILESYSTEM = "filesystem", _("File system")

    version = models.ForeignKey(
        Version, verbose_name=_("version"), on_delete=models.CASCADE, related_name="imported_metadata"
    )
    origin = models.CharField(_("origin"), max_length=20, choices=Origin.choices)
    data = models.JSONField(_("data"), default=dict)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        verbose_name = _("imported metadata")
        verbose_name_plural = _("imported metadata")
        constraints = [models.UniqueConstraint(fields=["version", "origin"], name="metadata_unique_version_origin")]

    def __str__(self) -> str:
        return f"{self.version_id} {self.origin}"


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit event."""


class AuditEvent(models.Model):
    """An append-only record of a decision: who, what, when, why, and the state before and after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Kept as text too, so the trail still reads correctly if an account is renamed.
    actor_label = models.CharField(_("actor name"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60)
    target_id = models.CharField(_("target id"), max_length=60)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    # The hash chain: each event's SHA-256 covers its own content and the previous event's hash.
    previous_hash = models.CharField(_("previous event hash"), max_length=64, blank=True)
    entry_hash = models.CharField(_("event hash"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuthorityRequest(models.Model):
    """A records officer's choice of authoritative version, waiting for a second officer's approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="authority_requests")
    version = models.ForeignKey(Version, verbose_name=_("version"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("authority request")
        verbose_name_plural = _("authority requests")
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(status="pending"), name="authorityrequest_one_pending_per_item"
            ),
            # Four eyes: nobody approves their own request.
            models.CheckConstraint(
                condition=~models.Q(status="approved", decided_by=models.F("requested_by")),
                name="authorityrequest_approver_differs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.version_id} ({self.status})"


class SidecarRow(models.Model):
    """One row of a sidecar CSV, kept as sent, with what it filled in and every problem found."""

    batch = models.ForeignKey(
        IngestBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="sidecar_rows"
    )
    line = models.PositiveIntegerField(_("line"))
    filename = models.CharField(_("filename"), max_length=1000, blank=True)
    data = models.JSONField(_("row as sent"), default=dict)
    # The item fields this row sets, already checked: {field: value}.
    values = models.JSONField(_("checked values"), default=dict)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    applied_to = models.JSONField(_("applied to versions"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["batch", "line"]
        verbose_name = _("sidecar row")
        verbose_name_plural = _("sidecar rows")
        indexes = [models.Index(fields=["batch", "filename"])]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line} {self.filename}"

    @property
    def outcome(self) -> str:
        """applied | partly (applied, with problems) | unmatched | refused."""
        if self.applied_to:
            return "partly" if self.problems else "applied"
        return "refused" if self.problems and not self.values else "unmatched"

    @property
    def problem_texts(self) -> list[str]:
        """Each problem in the reader's language (stored as codes; rows from before codes, as written)."""
        return [problem_text(stored) for stored in self.problems]
