"""Records officers' URL routes: the item record, authoritative choices, audit exports, copy verification."""

from django.urls import path

from records import views, views_standards

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
    # Records standards: PREMIS, BagIt, IIIF (records/views_standards.py).
    path("records/exports/", views_standards.exports, name="records-exports"),
    path("records/premis.xml", views_standards.premis_range_download, name="premis-range"),
    path("records/bag.zip", views_standards.bag_download, name="bag-download"),
    path("items/<int:pk>/premis.xml", views_standards.item_premis_download, name="item-premis"),
    path("iiif/items/<int:pk>/manifest", views_standards.iiif_item_manifest, name="iiif-item-manifest"),
    path("iiif/clusters/<int:pk>/manifest", views_standards.iiif_cluster_manifest, name="iiif-cluster-manifest"),
    path("iiif/image/<int:pk>", views_standards.iiif_image_base, name="iiif-image-base"),
    path("iiif/image/<int:pk>/info.json", views_standards.iiif_image_info, name="iiif-image-info"),
    path(
        "iiif/image/<int:pk>/<str:region>/<str:size>/<str:rotation>/<str:quality>.<str:fmt>",
        views_standards.iiif_image,
        name="iiif-image",
    ),
]
