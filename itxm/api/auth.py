"""Who is calling the API: a signed-in browser session (with CSRF) or a machine's bearer token."""

from ninja.security import HttpBearer, SessionAuth

from itxm.org.services import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), SessionAuth()]
