"""Review URL routes, mounted under /review/."""

from django.urls import path

from dedup.review import views, views_possible

urlpatterns = [
    path("", views.queue, name="review-queue"),
    path("clusters/<int:pk>/", views.cluster_page, name="review-cluster"),
    path("clusters/<int:pk>/merge/", views.cluster_merge, name="review-merge"),
    path("clusters/<int:pk>/split/", views.cluster_split, name="review-split"),
    path("clusters/<int:pk>/dismiss/", views.cluster_dismiss, name="review-dismiss"),
    path("clusters/<int:pk>/undo/", views.cluster_undo, name="review-undo"),
    path("clusters/<int:pk>/skip/", views.cluster_skip, name="review-skip"),
    path("clusters/<int:pk>/pair/", views.pair_not_duplicate, name="review-pair"),
    path("possible/", views_possible.possible_list, name="review-possible"),
    path("possible/decide/", views_possible.possible_decide, name="review-possible-decide"),
    path("rules/", views.bulk_rules, name="review-bulk-rules"),
    path("rules/<int:pk>/preview/", views.bulk_preview, name="review-bulk-preview"),
    path("rules/<int:pk>/run/", views.bulk_run, name="review-bulk-run"),
    path("runs/<int:pk>/undo/", views.bulk_undo, name="review-bulk-undo"),
]
