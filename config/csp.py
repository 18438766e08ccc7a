"""Content Security Policy header (Django 5.2 has none built in); the setting has Django 6.0's SECURE_CSP shape."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_text(policy: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Add settings.SECURE_CSP to every response that does not set its own policy (file downloads do)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            policy = dict(settings.SECURE_CSP)
            for directive, extra in getattr(response, "csp_update", {}).items():
                policy[directive] = [*policy.get(directive, []), *extra]
            response[HEADER] = policy_text(policy)
        return response


def csp_update(**directives: list[str]) -> Callable:
    """Widen the policy for one view, e.g. `csp_update(style_src=["'unsafe-inline'"])` for a third-party page."""
    extra = {name.replace("_", "-"): sources for name, sources in directives.items()}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.csp_update = extra
            return response

        return wrapped

    return decorator
