"""API routes, mounted under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from api import views

# "api-" names keep the routes apart from the pages' own (item-detail, batch-detail).
router = DefaultRouter()
router.register("sources", views.SourceViewSet, basename="api-source")
router.register("items", views.ItemViewSet, basename="api-item")
router.register("versions", views.VersionViewSet, basename="api-version")
router.register("clusters", views.ClusterViewSet, basename="api-cluster")
router.register("batches", views.BatchViewSet, basename="api-batch")

urlpatterns = [
    path("uploads/", views.UploadView.as_view(), name="api-uploads"),
    path("token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include(router.urls)),
]
