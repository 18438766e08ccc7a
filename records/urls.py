"""Records officers' URL routes: the item record, authoritative choices, audit exports, copy verification."""

from django.urls import path

from records import views

urlpatterns = [
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("items/<int:pk>/authoritative/", views.item_mark_authoritative, name="item-mark-authoritative"),
    path("items/<int:pk>/audit.csv", views.item_audit_export, {"fmt": "csv"}, name="item-audit-csv"),
    path("items/<int:pk>/audit.json", views.item_audit_export, {"fmt": "json"}, name="item-audit-json"),
    path("items/by-identifier/<path:identifier>/", views.item_by_identifier, name="item-by-identifier"),
    path("authority-requests/<int:pk>/approve/", views.authority_request_approve, name="authority-approve"),
    path("authority-requests/<int:pk>/reject/", views.authority_request_reject, name="authority-reject"),
    path("verify/", views.verify_page, name="verify"),
    path("verify/statement.pdf", views.verify_statement_pdf, name="verify-statement-pdf"),
]
