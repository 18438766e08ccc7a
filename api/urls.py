"""API routes, mounted under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api import views
from config.csp import csp_update

# "api-" names keep the routes apart from the pages' own (item-detail, batch-detail).
router = DefaultRouter()
router.register("sources", views.SourceViewSet, basename="api-source")
router.register("items", views.ItemViewSet, basename="api-item")
router.register("versions", views.VersionViewSet, basename="api-version")
router.register("clusters", views.ClusterViewSet, basename="api-cluster")
router.register("batches", views.BatchViewSet, basename="api-batch")
router.register("tokens", views.TokenViewSet, basename="api-tokens")

urlpatterns = [
    path("uploads/", views.UploadView.as_view(), name="api-uploads"),
    path("verify/", views.VerifyView.as_view(), name="api-verify"),
    path("token/", views.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script file, which the CSP allows.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc writes its styles into the page at run time and searches in a blob: worker.
    path(
        "redoc/",
        csp_update(style_src=["'unsafe-inline'"], worker_src=["blob:"])(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("", include(router.urls)),
]
