"""What the worker learns about each version: hashes, the rendition used for verification, thumbnails."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import Version
from dedup.imaging.fingerprint import CONTRACT
from dedup.imaging.index import KEY_LAYOUT


class Fingerprint(models.Model):
    """Hashes are stored as signed 64-bit integers (PostgreSQL has no unsigned bigint)."""

    version = models.OneToOneField(
        Version, verbose_name=_("version"), on_delete=models.CASCADE, primary_key=True, related_name="fingerprint"
    )
    phash = models.BigIntegerField(_("pHash"))
    dhash = models.BigIntegerField(_("dHash"))
    phash_trimmed = models.BigIntegerField(_("pHash without borders"), null=True, blank=True)
    phash_dihedral = models.JSONField(_("pHashes of rotations and mirrors"), default=list)
    phash_centre = models.JSONField(_("pHashes of the middle of the picture"), default=list, blank=True)
    phash_reframed = models.JSONField(
        _("pHashes of the picture straightened and with each edge left out"), default=list, blank=True
    )
    mode = models.CharField(_("colour mode"), max_length=20, blank=True)
    bit_depth = models.PositiveSmallIntegerField(_("bit depth"), default=8)
    page_count = models.PositiveIntegerField(_("pages or frames"), default=1)
    orientation = models.PositiveSmallIntegerField(_("EXIF orientation"), default=1)
    captured_at = models.CharField(_("capture date"), max_length=40, blank=True)
    rendition = models.BinaryField(_("greyscale rendition"))
    rendition_width = models.PositiveSmallIntegerField()
    rendition_height = models.PositiveSmallIntegerField()
    # The content inside a wide mat or letterbox as a rendition of its own; empty, 0 x 0, when there is none.
    content = models.BinaryField(_("content rendition"), blank=True, default=b"")
    content_width = models.PositiveSmallIntegerField(default=0)
    content_height = models.PositiveSmallIntegerField(default=0)
    # A page's text at DETAIL_SIDE (zlib-compressed: mostly paper); empty, 0 x 0, for other pictures.
    detail = models.BinaryField(_("detail rendition"), blank=True, default=b"", db_default=b"")
    detail_width = models.PositiveSmallIntegerField(default=0, db_default=0)
    detail_height = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Where the detail was cut: [top, bottom, left, right] as shares of the frame, to draw its regions on the picture.
    detail_box = models.JSONField(default=list, db_default=[], blank=True)
    thumb_small = models.CharField(_("small thumbnail"), max_length=300, blank=True)
    thumb_preview = models.CharField(_("preview"), max_length=300, blank=True)
    timings = models.JSONField(_("timings (ms)"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The imaging core's CONTRACT this was computed under; rows stored before contracts were numbered read 1.
    # Raising CONTRACT changes the default here, which makemigrations records (no SQL: the database keeps 1).
    contract = models.PositiveSmallIntegerField(_("fingerprint contract"), default=CONTRACT, db_default=1)

    class Meta:
        verbose_name = _("fingerprint")
        verbose_name_plural = _("fingerprints")

    def __str__(self) -> str:
        return f"{self.version_id}: {self.phash & 0xFFFFFFFFFFFFFFFF:016x}"


class RefingerprintRequest(models.Model):
    """A done version queued to be fingerprinted again (`manage.py refingerprint`).

    Deleted once its fingerprint is replaced and matched; kept with the reason when its file could not be read or
    decoded, so the old fingerprint stays, the version stays done, and the next run tries it again.
    """

    version = models.OneToOneField(
        Version, on_delete=models.CASCADE, primary_key=True, related_name="refingerprint_request"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # Why the old fingerprint was kept, as a dedup.imaging.errors.Failure code and its parameters; "" while queued.
    error_code = models.CharField(max_length=40, blank=True)
    error_params = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.version_id}: {self.error_code or 'queued'}"


def _hash_key(k: int) -> models.Expression:
    """Key k of the stored hash (`dedup.imaging.index.KEY_LAYOUT`), as the probe's SQL writes it."""
    shift, bits = KEY_LAYOUT[k]
    value = models.F("value").bitrightshift(shift) if shift else models.F("value")
    return value.bitand((1 << bits) - 1)


class HashEntry(models.Model):
    """One searchable hash of a version (its pHash, each rotation/mirror, the border-trimmed one, the middle).

    The hash is indexed under three keys, its top 21, middle 21 and low 22 bits (expression indexes, nothing
    stored twice): by the pigeonhole principle a hash within the Hamming radius of the query lies within two
    bits of it on some key, so a search is a few thousand short index lookups instead of a scan, and every
    worker on every host sees the same index. The indexes carry the hash and its version (covering), so a
    lookup reads no table row.

    `upright` marks the hashes of the picture as it was uploaded (pHash, border-trimmed, centre, reframed), as
    opposed to its rotations and mirrors. Two versions are candidates when an upright hash of either is near
    any hash of the other: a new version searches all entries with its upright hashes and the upright entries
    (their own partial indexes) with the others, a fraction of the rows that all against all fetches.
    """

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="hash_entries")
    value = models.BigIntegerField()
    upright = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "value"], name="hashentry_unique_version_value")]
        indexes = [
            models.Index(_hash_key(k), name=f"hashentry_key{k}", include=["value", "version"])
            for k in range(len(KEY_LAYOUT))
        ] + [
            models.Index(
                _hash_key(k),
                name=f"hashentry_upright_key{k}",
                include=["value", "version"],
                condition=models.Q(upright=True),
            )
            for k in range(len(KEY_LAYOUT))
        ]

    def __str__(self) -> str:
        return f"{self.version_id}: {self.value & 0xFFFFFFFFFFFFFFFF:016x}"


class MatchKind(models.TextChoices):
    EXACT = "exact", _("Exact copy (same bytes)")
    SAME_PIXELS = "same_pixels", _("Same pixels (re-saved or metadata changed)")
    NEAR = "near", _("Near duplicate (resized, recompressed, cropped or edited)")
    ROTATED = "rotated", _("Rotated or mirrored")


class MatchEdge(models.Model):
    """The verified (or rejected) comparison of two versions; version_a has the lower id."""

    version_a = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    version_b = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    is_duplicate = models.BooleanField(db_index=True)
    kind = models.CharField(max_length=20, choices=MatchKind.choices, blank=True)
    score = models.FloatField(default=0.0)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version_a", "version_b"], name="matchedge_unique_pair"),
            models.CheckConstraint(condition=models.Q(version_a__lt=models.F("version_b")), name="matchedge_ordered"),
        ]
        indexes = [
            models.Index(fields=["version_b", "is_duplicate"]),
            # The possible duplicates page reads only the few pairs waiting for a curator, in pair order.
            models.Index(
                fields=["version_a", "version_b"],
                condition=models.Q(is_duplicate=False, evidence__possible=True),
                name="matchedge_possible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version_a_id}~{self.version_b_id} {self.kind or 'different'}"


class Cluster(models.Model):
    """A group of versions that show the same picture."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    # Lowest verification score among members: the queue shows the surest clusters first.
    confidence = models.FloatField(_("confidence"), default=0.0, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # What the members say, kept on the row by dedup.matching.clusters.clusters_count_members wherever
    # memberships change: the queue's filters and bulk rules read it instead of grouping members per request.
    # Database defaults too, so clusters written in bulk SQL start consistent (empty).
    member_count = models.PositiveIntegerField(_("versions"), default=0, db_default=0)
    has_exact = models.BooleanField(_("has exact copies"), default=False, db_default=False)
    has_same_pixels = models.BooleanField(_("has same-pixel copies"), default=False, db_default=False)
    has_near = models.BooleanField(_("has near duplicates"), default=False, db_default=False)
    has_rotated = models.BooleanField(_("has rotated or mirrored copies"), default=False, db_default=False)
    # The earliest and latest upload among the members, for the queue's upload-date filters.
    first_uploaded_at = models.DateTimeField(_("first upload"), null=True, blank=True)
    last_uploaded_at = models.DateTimeField(_("latest upload"), null=True, blank=True)

    class Meta:
        ordering = ["-confidence", "pk"]
        # The review queue in either order (read backwards for least sure first) and its neighbours.
        indexes = [models.Index(fields=["status", "-confidence", "id"], name="cluster_queue_order")]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_status_display()})"


# The Cluster flag that says a member of that kind is in it.
KIND_FLAGS = {
    MatchKind.EXACT: "has_exact",
    MatchKind.SAME_PIXELS: "has_same_pixels",
    MatchKind.NEAR: "has_near",
    MatchKind.ROTATED: "has_rotated",
}


class ClusterMember(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="members")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="cluster_memberships")
    kind = models.CharField(_("match kind"), max_length=20, choices=MatchKind.choices)
    score = models.FloatField(_("verification score"), default=0.0)
    evidence = models.JSONField(_("evidence"), default=dict)
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["version_id"]
        constraints = [
            # A version is in at most one cluster; a dismissed cluster lets its versions go.
            models.UniqueConstraint(fields=["version"], name="clustermember_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id}: {self.version_id} ({self.kind})"


def _pair_constraints(prefix: str) -> list:
    """One row per pair of versions, the lower id first."""
    return [
        models.UniqueConstraint(fields=["version_a", "version_b"], name=f"{prefix}_unique_pair"),
        models.CheckConstraint(condition=models.Q(version_a__lt=models.F("version_b")), name=f"{prefix}_ordered"),
    ]


class PairDecision(models.Model):
    """A curator's decision about two versions (version_a has the lower id), remembered over rebuilds."""

    version_a = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    version_b = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class NotDuplicatePair(PairDecision):
    """A curator's decision that two versions are different pictures; never clustered again."""

    class Meta:
        constraints = _pair_constraints("notduplicate")

    def __str__(self) -> str:
        return f"{self.version_a_id} ≠ {self.version_b_id}"


class ConfirmedDuplicatePair(PairDecision):
    """A curator's decision that a possible duplicate (one region verification could not settle) is the
    same picture; its edge then counts as verified, also after `rebuild_clusters`."""

    class Meta:
        constraints = _pair_constraints("confirmedduplicate")

    def __str__(self) -> str:
        return f"{self.version_a_id} = {self.version_b_id}"


class ClusterSkip(models.Model):
    """A curator put a cluster aside for later; it leaves that curator's default queue."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="skips")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    skipped_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "user"], name="clusterskip_unique_cluster_user")]

    def __str__(self) -> str:
        return f"{self.cluster_id} skipped by {self.user_id}"


class PairClaim(models.Model):
    """A worker's claim to verify one pair, written before it verifies: the first claim wins, so no two workers
    verify the same pair. `claimed_by` is the version whose processing made the claim; a claim with no edge
    whose claimant is no longer being processed (its run died) may be taken over."""

    version_a = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    version_b = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    claimed_by = models.ForeignKey(Version, null=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version_a", "version_b"], name="pairclaim_unique_pair"),
            models.CheckConstraint(condition=models.Q(version_a__lt=models.F("version_b")), name="pairclaim_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.version_a_id}~{self.version_b_id} claimed by {self.claimed_by_id}"


class BulkRule(models.Model):
    """A curator's standing rule for the obvious clusters, run on the queue after a preview (Hydrus-style).

    A cluster qualifies when it is open, every member's match kind is one of `kinds`, and it has at most
    `max_size` members (no limit when blank); the action is applied to each qualifying cluster.
    """

    class Action(models.TextChoices):
        MERGE_SUGGESTED = "merge_suggested", _("Keep the suggested authoritative version, merge the rest")

    name = models.CharField(_("name"), max_length=200)
    kinds = models.JSONField(_("match kinds"), default=list)
    max_size = models.PositiveSmallIntegerField(_("at most this many versions"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices, default=Action.MERGE_SUGGESTED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("bulk rule")
        verbose_name_plural = _("bulk rules")

    def __str__(self) -> str:
        return self.name


class BulkRun(models.Model):
    """One run of a bulk rule: the clusters it acted on, undoable as a whole or cluster by cluster."""

    rule = models.ForeignKey(BulkRule, on_delete=models.PROTECT, related_name="runs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("run at"), default=timezone.now)
    cluster_ids = models.JSONField(_("clusters acted on"), default=list)
    skipped_ids = models.JSONField(_("clusters left alone"), default=list)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("bulk run")
        verbose_name_plural = _("bulk runs")

    def __str__(self) -> str:
        return f"{self.rule_id} run {self.pk}"
