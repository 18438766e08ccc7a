"""Top-level URL routes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views import defaults

from api.views import api_not_found
from collections_app.login_throttle import ThrottledAuthenticationForm
from reports.health import ReadinessView, liveness
from reports.metrics import metrics_view

urlpatterns = [
    # Operations: probes open to all (they name components, nothing else), metrics by setting.
    path("healthz", liveness, name="healthz"),
    path("readyz", ReadinessView.as_view(), name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("review/", include("dedup.review.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("api.urls")),
    path("", include("collections_app.urls")),
    path("", include("records.urls")),
]


def page_not_found(request, exception):
    """An address under /api/ that matches no route is answered in JSON, as the API's own 404s are."""
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


handler404 = page_not_found
