"""`Authorization: Bearer <token>` for the API (a token is issued only after the second factor)."""

from rest_framework import authentication, exceptions

from accounts.services import token_find


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide.")
        token = token_find(raw=parts[1].decode("latin-1"))
        if token is None:
            raise exceptions.AuthenticationFailed("Jeton invalide ou expiré.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
