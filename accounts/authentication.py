"""`Authorization: Bearer <token>` for the API."""

from rest_framework import authentication, exceptions

from accounts.services import token_user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide.")
        user = token_user(raw=parts[1].decode("latin-1"))
        if user is None:
            raise exceptions.AuthenticationFailed("Jeton invalide ou expiré.")
        return user, None

    def authenticate_header(self, request):
        return self.keyword
