"""Possible duplicates: the pairs verification could not settle, each shown with the place that differs
outlined on both images, for a curator to confirm or decline."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app.permissions import require_perm
from collections_app.search import COUNT_LIMIT, IdsFirstPaginator
from dedup.reasons import evidence_reason
from dedup.review import possible
from dedup.review.forms import PairForm
from dedup.review.services import ReviewError
from dedup.selectors import possible_pairs

PAGE_SIZE = 20


class DecisionForm(PairForm):
    decision = forms.ChoiceField(choices=[("confirm", "confirm"), ("decline", "decline")])


def _outline(box: list | None, size: list | None) -> dict | None:
    """A box in rendition pixels as percentages of the picture, for drawing over a thumbnail of any size."""
    if not box or not size:
        return None
    (top, bottom, left, right), (width, height) = box, size
    return {
        "top": 100 * top / height,
        "left": 100 * left / width,
        "height": 100 * (bottom - top) / height,
        "width": 100 * (right - left) / width,
    }


@require_perm("dedup.view_cluster")
@require_GET
def possible_list(request: HttpRequest) -> HttpResponse:
    # As the queue: count to the page asked for or to COUNT_LIMIT, and read a deep page's ids off the index of
    # waiting pairs first, so the pairs before it are neither loaded nor joined to their versions.
    wanted = request.GET.get("page", "")
    limit = max(COUNT_LIMIT, (int(wanted) if wanted.isdigit() and len(wanted) < 7 else 1) * PAGE_SIZE)
    page = IdsFirstPaginator(possible_pairs(), PAGE_SIZE, limit=limit).get_page(wanted)
    rows = []
    for edge in page:
        evidence = edge.evidence
        sizes = evidence.get("compared_size") or [None, None]
        region = next((r for r in evidence.get("regions", []) if r.get("kind") == "content"), None) or {}
        on_frame = evidence.get("compared") == "frame"  # a content rendition's boxes lie inside the mat
        rows.append(
            {
                "edge": edge,
                "outline_a": _outline(region.get("box"), sizes[0]) if on_frame else None,
                "outline_b": _outline(region.get("box_b"), sizes[1]) if on_frame else None,
                "reason": evidence_reason(evidence),
            }
        )
    return render(request, "dedup/review/possible.html", {"page": page, "rows": rows})


@require_perm("dedup.change_cluster")
@require_POST
def possible_decide(request: HttpRequest) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete; reload the page and try again."))
        return redirect("review-possible")
    a, b = form.cleaned_data["version_a"], form.cleaned_data["version_b"]
    try:
        if form.cleaned_data["decision"] == "confirm":
            possible.possible_confirm(version_a_id=a, version_b_id=b, actor=request.user)
            messages.success(request, _("Confirmed as the same picture; the two now share a cluster."))
        else:
            possible.possible_decline(version_a_id=a, version_b_id=b, actor=request.user)
            messages.success(request, _("Remembered as different pictures."))
    except ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("review-possible")
