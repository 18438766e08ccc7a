"""Reports URL routes, mounted under /reports/."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.dashboard, name="reports-dashboard"),
    path("failures/", views.failures, name="reports-failures"),
    path("legal-hold/", views.legal_hold, name="reports-legal-hold"),
    path("dublin-core/manifest.<str:fmt>", views.manifest_dublin_core, name="reports-manifest-dublin-core"),
    path("download/<slug:name>.<str:fmt>", views.download, name="reports-download"),
]
