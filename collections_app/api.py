"""JSON endpoints under /api/v1/ (plain Django views until the full API is built)."""

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collections_app.models import Version
from collections_app.permissions import require_perm
from collections_app.verification import ItemAnswer, Verification, VerificationTooLarge, copy_verify
from dedup.fingerprint import FingerprintError


def _version(version: Version | None) -> dict | None:
    if version is None:
        return None
    return {
        "id": version.pk,
        "original_filename": version.original_filename,
        "source": version.source.name,
        "uploaded_at": version.uploaded_at.isoformat(),
        "format": version.format,
        "width": version.width,
        "height": version.height,
        "byte_size": version.byte_size,
        "sha256": version.sha256,
    }


def _answer(request: HttpRequest, answer: ItemAnswer) -> dict:
    item = answer.item
    return {
        "item": {
            "id": item.pk,
            "identifier": item.identifier,
            "title": item.title,
            "title_zh": item.title_zh,
            "url": request.build_absolute_uri(item.get_absolute_url()),
        },
        "kind": answer.kind,
        "is_authoritative": answer.is_authoritative,
        "authoritative_kind": answer.authoritative_kind,
        "authoritative_version": _version(answer.authoritative),
        "differences": [
            {"field": d.field, "submitted": d.submitted, "authoritative": d.authoritative} for d in answer.differences
        ],
        "matched_versions": [
            {"id": m.version.pk, "kind": m.kind, "score": m.score, "authoritative": m.version == answer.authoritative}
            for m in answer.matches
        ],
    }


def verification_as_dict(request: HttpRequest, result: Verification) -> dict:
    submitted = result.submitted
    return {
        "matched": result.matched,
        "is_authoritative": any(a.is_authoritative for a in result.items),
        "submitted": {
            "sha256": submitted.sha256,
            "byte_size": submitted.byte_size,
            "format": submitted.format,
            "width": submitted.width,
            "height": submitted.height,
        },
        "items": [_answer(request, a) for a in result.items],
        "stored": False,
    }


def _error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_perm("collections_app.verify_copy")
@require_POST
def verify(request: HttpRequest) -> JsonResponse:
    """POST a multipart `file`: which item it matches, how, and whether it is the authoritative version."""
    upload = request.FILES.get("file")
    if upload is None:
        return _error(_("Send the copy to check as a multipart form field named “file”."))
    if not upload.size:
        return _error(_("The file is empty."))
    try:
        result = copy_verify(fileobj=upload, byte_size=upload.size)
    except FingerprintError as exc:
        return _error(exc.reason)
    except VerificationTooLarge:
        return _error(_("The file is larger than the upload limit."))
    return JsonResponse(verification_as_dict(request, result), json_dumps_params={"ensure_ascii": False})
