"""System checks for deployment settings the project adds to Django's own."""

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

THROTTLE_BACKEND = "collections_app.login_throttle.ThrottledModelBackend"


@register(Tags.security, deploy=True)
def client_ip_header_behind_proxy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Behind a proxy without a client address header, every client shares the proxy's address for throttling."""
    throttled = THROTTLE_BACKEND in settings.AUTHENTICATION_BACKENDS
    if not throttled or settings.DUPFINDER_CLIENT_IP_HEADER or not settings.SECURE_PROXY_SSL_HEADER:
        return []
    return [
        Warning(
            "SECURE_PROXY_SSL_HEADER says a proxy is in front, but DUPFINDER_CLIENT_IP_HEADER is not set: "
            "sign-in throttling sees every client as the proxy's address, so anyone can pause anyone's sign-in.",
            hint="Declare the proxy with DUPFINDER_PROXY_CLIENT_IP_HEADER, the header it puts the client's address "
            "in (e.g. X-Real-IP); it sets both settings.",
            id="dupfinder.W001",
        )
    ]
