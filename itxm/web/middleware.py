import time

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in user, except those marked ``login_not_required``.

    The API answers for itself (401 as JSON, token or session), and static files are public.
    """

    # /i18n/: the language switch in every page's header works before signing in (login, public, shared pages).
    exempt_prefixes = ("/api/", "/i18n/", settings.STATIC_URL)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(self.exempt_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class ServerTimingMiddleware:
    """Says how long the server took (``Server-Timing: app;dur=ms``): the browser tests and the page
    benchmark read it, and so can anyone with the browser's developer tools."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
