"""API views: each parses input, checks a role permission, calls one service or selector and presents it."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import selectors as api_selectors
from api import serializers as s
from api import services as api_services
from api.filters import ApiClusterFilter, ApiFilterBackend, ApiItemFilter, ApiVersionFilter, CatalogueSearchFilter
from api.pagination import CataloguePagination, QueuePagination
from api.parsers import UploadMultiPartParser
from api.schema import VALIDATION_ERROR
from collections_app import selectors, services, sidecar
from collections_app.exports import content_disposition
from collections_app.failures import failure_text
from collections_app.login_throttle import client_ip, sign_in_refusal
from collections_app.models import IngestBatch, Item, Source, Version
from collections_app.search import items_search, versions_search
from collections_app.services import batch_create
from collections_app.templatetags.site_time import site_time_text
from collections_app.uploads import BatchNotYours, SidecarRefused, batch_check_open, batch_upload
from dedup.imaging.errors import Failure, FingerprintError
from dedup.models import Cluster
from dedup.review import services as review
from dedup.selectors import clusters_listed
from records import statement
from records.copy_check import VerificationTooLarge, copy_check

CHANGE_CLUSTER = ["dedup.view_cluster", "dedup.change_cluster"]
REDIRECT_TO_ITEM = OpenApiResponse(
    description=gettext_lazy("The item was merged into another; Location names the one that holds its versions now.")
)
CLUSTER_CHANGED = OpenApiResponse(
    s.ErrorSerializer,
    description=gettext_lazy(
        "The cluster changed since its token was read, or the action was already done; nothing was changed."
    ),
)


class SourceViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Departments, portals and systems files come from (administrators add them)."""

    queryset = Source.objects.all()
    serializer_class = s.SourceSerializer
    filterset_fields = ["kind", "name"]


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Items with their curated Dublin Core fields."""

    queryset = Item.objects.all()
    serializer_class = s.ItemSerializer
    # The catalogue page's search (?q=) and filters, with DRF's ?ordering= (a minus sign for descending).
    filter_backends = [ApiFilterBackend, CatalogueSearchFilter, OrderingFilter]
    filterset_class = ApiItemFilter
    catalogue_search = staticmethod(items_search)
    pagination_class = CataloguePagination
    ordering_fields = ["identifier", "title", "title_zh", "created_at"]
    ordering = ["-created_at", "-id"]
    action_permissions = {"by_identifier": ["collections_app.view_item"]}

    @extend_schema(responses={200: s.ItemSerializer, 302: REDIRECT_TO_ITEM})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        item = self.get_object()
        if item.merged_into_id:
            # A merged-away item answers with a redirect to the item that now holds its versions.
            return _redirect_to_item(selectors.item_surviving(item=item))
        return Response(self.get_serializer(item).data)

    @extend_schema(responses={302: REDIRECT_TO_ITEM})
    @action(detail=False, url_path=r"by-identifier/(?P<identifier>.+)")
    def by_identifier(self, request: Request, identifier: str) -> Response:
        """Redirect to the item with this identifier or accession number, or to the item it was merged into."""
        try:
            return _redirect_to_item(selectors.item_by_identifier(identifier=identifier))
        except Item.DoesNotExist as exc:
            raise NotFound(_("No item has the identifier %(identifier)s.") % {"identifier": identifier}) from exc


def _redirect_to_item(item: Item) -> Response:
    return Response(status=status.HTTP_302_FOUND, headers={"Location": reverse("api-item-detail", args=[item.pk])})


class VersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored files with their processing status and fingerprint hashes."""

    queryset = Version.objects.select_related("source", "uploader", "fingerprint").defer(
        "fingerprint__rendition", "fingerprint__content", "fingerprint__timings"
    )
    serializer_class = s.VersionSerializer
    filter_backends = [ApiFilterBackend, CatalogueSearchFilter, OrderingFilter]
    filterset_class = ApiVersionFilter
    catalogue_search = staticmethod(versions_search)
    pagination_class = CataloguePagination
    ordering_fields = ["uploaded_at", "original_filename", "byte_size"]
    ordering = ["-uploaded_at", "-id"]
    action_permissions = {"retry": ["collections_app.view_version", "collections_app.add_version"]}

    @extend_schema(
        request=None,
        responses={
            200: s.VersionSerializer,
            409: OpenApiResponse(
                s.ErrorSerializer, description=gettext_lazy("Only a version whose processing failed is retried.")
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        """Process a failed version again from the stored file; nothing is resent. Answers 409 unless it failed."""
        version = self.get_object()
        try:
            services.version_retry(version_id=version.pk, actor=request.user)
        except services.VersionNotRetryable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data)


class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    """Clusters of versions that show one picture, filtered as in the review queue, and the curator's actions."""

    queryset = Cluster.objects.all()
    serializer_class = s.ClusterSerializer
    pagination_class = QueuePagination
    filterset_class = ApiClusterFilter
    action_permissions = {
        "list": ["dedup.view_cluster"],
        "retrieve": ["dedup.view_cluster"],
        "merge": CHANGE_CLUSTER,
        "split": CHANGE_CLUSTER,
        "not_duplicates": CHANGE_CLUSTER,
        "skip": CHANGE_CLUSTER,
        "undo": CHANGE_CLUSTER,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Cluster.objects.none()
        return clusters_listed(user=self.request.user)

    def filter_queryset(self, queryset):
        # The queue's filters (open, not skipped by default) choose what is listed, not what can be opened.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _act(self, request: Request, serializer_class, run) -> Response:
        cluster = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run(cluster.pk, data.validated_data)
        except review.ClusterConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except review.ReviewError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(s.ClusterSerializer(self.get_queryset().get(pk=cluster.pk)).data)

    @extend_schema(request=s.MergeSerializer, responses={200: s.ClusterSerializer, 409: CLUSTER_CHANGED})
    # JSON only: its choices and custom values are objects, which a form cannot carry.
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def merge(self, request: Request, pk=None) -> Response:
        def run(cluster_id: int, data: dict) -> None:
            review.cluster_merge(
                cluster_id=cluster_id,
                actor=request.user,
                authoritative_id=data["authoritative"],
                token=data.get("token"),
                choices=data.get("choices"),
                custom=data.get("custom"),
                reason=data.get("reason", ""),
            )

        return self._act(request, s.MergeSerializer, run)

    @extend_schema(request=s.SplitSerializer, responses={200: s.ClusterSerializer, 409: CLUSTER_CHANGED})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk=None) -> Response:
        return self._act(
            request,
            s.SplitSerializer,
            lambda cid, d: review.cluster_split(
                cluster_id=cid, version_id=d["version"], actor=request.user, token=d.get("token")
            ),
        )

    @extend_schema(request=s.ActionSerializer, responses={200: s.ClusterSerializer, 409: CLUSTER_CHANGED})
    @action(detail=True, methods=["post"], url_path="not-duplicates")
    def not_duplicates(self, request: Request, pk=None) -> Response:
        return self._act(
            request,
            s.ActionSerializer,
            lambda cid, d: review.cluster_dismiss(cluster_id=cid, actor=request.user, token=d.get("token")),
        )

    @extend_schema(request=None, responses={200: s.ClusterSerializer, 409: CLUSTER_CHANGED})
    @action(detail=True, methods=["post"])
    def skip(self, request: Request, pk=None) -> Response:
        return self._act(
            request, s.ActionSerializer, lambda cid, d: review.cluster_skip(cluster_id=cid, actor=request.user)
        )

    @extend_schema(request=s.ActionSerializer, responses={200: s.ClusterSerializer, 409: CLUSTER_CHANGED})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk=None) -> Response:
        return self._act(
            request,
            s.ActionSerializer,
            lambda cid, d: review.cluster_undo(cluster_id=cid, actor=request.user, token=d.get("token")),
        )


class BatchViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Upload batches with their counts, refusals and sidecar CSV report."""

    queryset = IngestBatch.objects.all()
    filterset_fields = ["source", "created_by"]
    action_permissions = {"sidecar": ["collections_app.add_ingestbatch", "collections_app.add_version"]}

    def get_queryset(self):
        queryset = selectors.batches_with_counts()
        return queryset.prefetch_related("sidecar_rows") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return s.BatchDetailSerializer if self.action == "retrieve" else s.BatchSerializer

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        serializer.instance = batch_create(
            source=data["source"],
            label=data.get("label", ""),
            created_by=self.request.user,
            channel=IngestBatch.Channel.API,
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        batch = selectors.batch_with_counts(batch_id=serializer.instance.pk)
        return Response(s.BatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": s.SidecarUploadSerializer},
        responses={
            200: s.BatchDetailSerializer,
            400: OpenApiResponse(description="The CSV cannot be read; the detail names the line."),
            403: OpenApiResponse(description="The batch was started by someone else."),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[UploadMultiPartParser])
    def sidecar(self, request: Request, pk=None) -> Response:
        batch = self.get_object()
        try:
            batch_check_open(batch=batch, user=request.user)
        except BatchNotYours as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        upload = s.SidecarUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        content = upload.validated_data["file"].read(sidecar.MAX_BYTES + 1)
        try:
            sidecar.batch_sidecar_attach(batch=batch, content=content, actor=request.user)
        except sidecar.SidecarError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        batch = selectors.batches_with_counts().prefetch_related("sidecar_rows").get(pk=batch.pk)
        return Response(s.BatchDetailSerializer(batch).data)


def _already(version: Version | None, request: Request) -> dict | None:
    if version is None:
        return None
    earlier = selectors.versions_already_in_collection(versions=[version]).get(version.pk)
    if earlier is None:
        return None
    return {
        "version": earlier.pk,
        "item": earlier.item_id,
        "identifier": earlier.item.identifier,
        "url": request.build_absolute_uri(earlier.get_absolute_url()),
        "uploader": earlier.uploader.get_username() if earlier.uploader else None,
        "uploaded_at": earlier.uploaded_at.isoformat(),
        # As the pages write it (site time zone and format), so the upload page need not use the browser's.
        "uploaded_at_text": site_time_text(earlier.uploaded_at),
        "source": earlier.source.name,
    }


class UploadView(APIView):
    """Send one or many files (images, ZIP archives, a sidecar CSV) into a batch; each file is answered."""

    parser_classes = [UploadMultiPartParser]
    action_permissions = {
        "post": ["collections_app.add_version", "collections_app.add_item", "collections_app.add_ingestbatch"]
    }

    @extend_schema(
        request={"multipart/form-data": s.UploadSerializer},
        responses={
            201: s.UploadResultSerializer,
            400: OpenApiResponse(description="Nothing was stored: the request or a sidecar CSV in it cannot be read."),
            403: OpenApiResponse(description="Nothing was stored: the batch was started by someone else."),
        },
        operation_id="uploads_create",
    )
    def post(self, request: Request) -> Response:
        form = s.UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        paths = data.get("paths") or [f.name for f in data["files"]]
        try:
            result = batch_upload(
                files=[(f, path or f.name, f.size) for f, path in zip(data["files"], paths, strict=True)],
                uploader=request.user,
                batch=data.get("batch"),
                source=data.get("source"),
                label=data.get("label") or "",
                channel=IngestBatch.Channel.API,
                metadata=data["metadata"].read(sidecar.MAX_BYTES + 1) if data.get("metadata") else None,
            )
        except BatchNotYours as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except SidecarRefused as exc:
            return Response({exc.field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        batch = result.batch
        body = {
            "batch": batch.pk,
            "batch_url": request.build_absolute_uri(reverse("batch-detail", args=[batch.pk])),
            "files": [{**f.as_dict(), "already_in_collection": _already(f.version, request)} for f in result.files],
        }
        return Response(body, status=status.HTTP_201_CREATED)


class VerifyView(APIView):
    """Send a copy as a multipart `file`: which items it matches, how, and whether it is the authoritative version.

    With `?statement=pdf` the answer is the printable statement instead (a PDF, in the request's language),
    and its SHA-256 is recorded in the audit trail; `manage.py verify_statement FILE` finds it there.

    The file is fingerprinted in memory and compared exactly as matching compares stored versions; nothing
    is stored.
    """

    parser_classes = [MultiPartParser]
    action_permissions = {"post": ["collections_app.verify_copy"]}

    @extend_schema(
        request={"multipart/form-data": s.VerifyUploadSerializer},
        parameters=[
            OpenApiParameter(
                "statement", str, enum=["pdf"], description="pdf: answer with the printable statement, recorded."
            )
        ],
        responses={
            (200, "application/json"): s.VerificationSerializer,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (400, "application/json"): s.VerifyErrorSerializer,
        },
        operation_id="verify_create",
    )
    def post(self, request: Request) -> Response:
        wanted = request.query_params.get("statement")
        if wanted not in (None, "pdf"):
            return _verify_error(_("The only statement the API issues is “statement=pdf”."))
        upload = request.FILES.get("file")
        if upload is None:
            return _verify_error(_("Send the copy to check as a multipart form field named “file”."))
        if not upload.size:
            return _verify_error(failure_text(Failure.EMPTY))
        try:
            result = copy_check(fileobj=upload, byte_size=upload.size)
        except FingerprintError as exc:
            return _verify_error(failure_text(exc.code, exc.params))
        except VerificationTooLarge:
            return _verify_error(_("The file is larger than the upload limit."))
        as_pdf = wanted == "pdf"
        facts = statement.statement_facts(result, checked_by=request.user.get_username(), pictures=as_pdf)
        if as_pdf:
            issued = statement.statement_issue(facts=facts, actor=request.user, language=get_language())
            response = HttpResponse(issued.pdf, content_type="application/pdf")
            response["Content-Disposition"] = content_disposition(f"statement-{issued.sha256[:12]}.pdf")
            return response
        worded = statement.statement_words(facts).answers
        words = {answer.item.pk: w for answer, w in zip(result.items, worded, strict=True)}
        return Response(s.VerificationSerializer(result, context={"request": request, "words": words}).data)


def _verify_error(message: str) -> Response:
    return Response({"error": message}, status=status.HTTP_400_BAD_REQUEST)


class TokenView(APIView):
    """Sign in with a username and password for a new token; it expires after DUPFINDER_API_TOKEN_TTL_HOURS.

    Each sign-in issues another token. Failures count towards the sign-in throttle of the sign-in page.
    """

    authentication_classes = []
    # The username and password are the check; anyone may try, and failures pause further tries.
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.SignInSerializer,
        responses={
            200: s.IssuedTokenSerializer,
            400: OpenApiResponse(
                VALIDATION_ERROR,
                description=gettext_lazy(
                    "No token: a field is missing, the username and password did not match, or signing in is "
                    "paused after too many failures (the detail says which)."
                ),
            ),
        },
        auth=[],
        operation_id="token_create",
    )
    def post(self, request: Request) -> Response:
        form = s.SignInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        username = form.validated_data["username"]
        user = authenticate(request, username=username, password=form.validated_data["password"])
        if user is None:
            refusal = sign_in_refusal(username=username, ip=client_ip(request))
            return Response({"detail": refusal}, status=status.HTTP_400_BAD_REQUEST)
        issued = api_services.token_issue(user=user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(s.IssuedTokenSerializer(issued).data)


class TokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own API tokens: list them, revoke one, or revoke them all."""

    serializer_class = s.TokenSerializer
    # Signed in is enough: each user sees and revokes only their own tokens.
    permission_classes = [IsAuthenticated]
    lookup_url_kwarg = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuthToken.objects.none()
        return api_selectors.tokens_of(user=self.request.user)

    @extend_schema(responses={204: None, 404: s.ErrorSerializer})
    def destroy(self, request: Request, id: str) -> Response:
        """Revoke one of your tokens; it stops working at once."""
        if not api_services.token_revoke(user=request.user, key=id):
            raise NotFound(_("You have no token %(id)s.") % {"id": id})
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="logout-all")
    def logout_all(self, request: Request) -> Response:
        """Revoke every one of your tokens (a signed-in browser session is not ended)."""
        api_services.tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def api_not_found(request) -> JsonResponse:
    """The answer to an /api/ address that matches no route (the site's 404 handler calls it)."""
    return JsonResponse({"detail": str(NotFound.default_detail)}, status=status.HTTP_404_NOT_FOUND)
