"""Token authentication: knox's hashed, expiring tokens, with a header that is not UTF-8 refused as a bad token."""

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`; an expired or revoked token is refused with 401 like a wrong one."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            # knox decodes without catching this, which would answer 500 to a header of stray bytes.
            raise AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)
