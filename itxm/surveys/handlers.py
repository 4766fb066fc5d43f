"""The one-click answer link's own WSGI handler: the site's middleware less what serves signed-in people.

Every score button in every survey e-mail is a GET of ``/s/<token>/<score>``: no sign-in, no form, no
session, no messages. Django's session, authentication, message, CSRF and sign-in middleware cost a
click about a fifth of its time, for nothing it uses, so ``itxm.wsgi`` hands these links to this
handler. It runs the same URL configuration, view and error pages with the rest of the middleware
(security headers, language, clickjacking, Server-Timing); the survey page the click leads to is served
by the full stack, with its CSRF-protected form.
"""

import re

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

ANSWER_LINK = re.compile(r"/s/[^/]+/[0-9]+")

# What only signed-in pages and forms need.
SKIPPED = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "itxm.web.middleware.LoginRequiredMiddleware",
    }
)


def is_answer_link(environ) -> bool:
    return environ.get("REQUEST_METHOD") == "GET" and ANSWER_LINK.fullmatch(environ.get("PATH_INFO", "")) is not None


class AnswerLinkHandler(WSGIHandler):
    """``WSGIHandler`` with ``settings.MIDDLEWARE`` less ``SKIPPED`` (synchronous middleware only, as WSGI is)."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed([path for path in settings.MIDDLEWARE if path not in SKIPPED]):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler
