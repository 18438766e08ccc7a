"""Catalogue URL routes."""

from django.urls import path

from collections_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("items/", views.item_list, name="item-list"),
    path("versions/", views.version_list, name="version-list"),
    path("upload/", views.upload, name="upload"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("versions/<int:pk>/retry/", views.version_retry, name="version-retry"),
    path("versions/<int:pk>/file/", views.version_file, name="version-file"),
    path("versions/<int:pk>/thumb/<str:size>/", views.version_thumbnail, name="version-thumbnail"),
]
