"""Catalogue URL routes."""

from django.urls import path

from collections_app import record_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("upload/", views.upload, name="upload"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("items/<int:pk>/authoritative/", record_views.item_mark_authoritative, name="item-mark-authoritative"),
    path("items/<int:pk>/audit.csv", record_views.item_audit_export, {"fmt": "csv"}, name="item-audit-csv"),
    path("items/<int:pk>/audit.json", record_views.item_audit_export, {"fmt": "json"}, name="item-audit-json"),
    path("items/by-identifier/<path:identifier>/", record_views.item_by_identifier, name="item-by-identifier"),
    path("authority-requests/<int:pk>/approve/", record_views.authority_request_approve, name="authority-approve"),
    path("authority-requests/<int:pk>/reject/", record_views.authority_request_reject, name="authority-reject"),
    path("verify/", record_views.verify_page, name="verify"),
    path("versions/<int:pk>/retry/", views.version_retry, name="version-retry"),
    path("versions/<int:pk>/file/", views.version_file, name="version-file"),
    path("versions/<int:pk>/thumb/<str:size>/", views.version_thumbnail, name="version-thumbnail"),
]
