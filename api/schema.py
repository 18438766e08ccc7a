"""The OpenAPI description: the token authentication, and the error answers every operation can give.

drf-spectacular documents only the success of an operation; the answers below are the ones Django REST
framework gives around it, so each operation lists them unless its view documents that status itself.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object

# A validation error names each field with its messages (nested for lists and objects of fields), or
# `detail` / `non_field_errors` for the request as a whole.
VALIDATION_ERROR = {
    "type": "object",
    "description": _("Each field in error with its messages, or `detail` for the request as a whole."),
    "additionalProperties": {},
}
ERRORS = {
    "400": _("The request is not valid; nothing was changed."),
    "401": _("No valid token or session: sign in, or the token has expired or was revoked."),
    "403": _("Signed in without the permission this needs."),
    "404": _("Nothing found at this address (or the page number is past the last page)."),
    "415": _("The body is not in one of the media types listed for this operation."),
}


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    # drf-spectacular matches authentication extensions to exact classes, so knox's own does not apply.
    target_class = "api.auth.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


class ApiAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                # Every query parameter is a filter or the page number, and an empty value leaves it out
                # (django-filter, as a form's "Any"; the first page): `?status=` lists clusters of any status.
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for code in self._error_codes(operation, path):
            if code not in responses:
                responses[code] = self._error_response(code)
        return operation

    def _error_codes(self, operation: dict, path: str) -> list[str]:
        codes = []
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        if "requestBody" in operation or any(p["name"] != "page" for p in query):
            codes.append("400")
        if operation.get("security") and {} not in operation["security"]:
            codes += ["401", "403"]
        if "{" in path or any(p["name"] == "page" for p in query):
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        return codes

    def _error_response(self, code: str) -> dict:
        from api.serializers import ErrorSerializer

        body = VALIDATION_ERROR if code == "400" else ErrorSerializer
        response = self._get_response_for_code(body, code)
        response["description"] = ERRORS[code]
        return response
