import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itxm.settings")
django_application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402  (after Django is set up)

from itxm.surveys.handlers import AnswerLinkHandler, is_answer_link  # noqa: E402

# Import every page's and API route's module now, while the worker starts: on its first request it took
# seconds (the API's schemas), and granian hands a worker requests as soon as this module is loaded.
get_resolver().url_patterns  # noqa: B018
# What start-up loaded lives as long as the worker: out of the garbage collector's sight, the full
# collections that come every few large requests scan a few thousand objects instead of 240,000 (they
# added 60-160 ms to one analytics call in a dozen).
gc.freeze()

answer_link_application = AnswerLinkHandler()

# Proxies whose X-Forwarded-Proto (or -Protocol, -Ssl) says the request came over HTTPS, as gunicorn's
# --forwarded-allow-ips does: `itxm serve` runs granian, which leaves that to the application.
TRUSTED_PROXIES = frozenset(ip.strip() for ip in os.environ.get("ITXM_FORWARDED_ALLOW_IPS", "127.0.0.1").split(","))
SECURE_HEADERS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_PROTOCOL": "ssl", "HTTP_X_FORWARDED_SSL": "on"}


def application(environ, start_response):
    if "*" in TRUSTED_PROXIES or environ.get("REMOTE_ADDR") in TRUSTED_PROXIES:
        for header, secure in SECURE_HEADERS.items():
            if header in environ:
                environ["wsgi.url_scheme"] = "https" if environ[header].lower() == secure else "http"
    # The score buttons of the survey e-mails: the busiest URL, and one that needs no session (handlers.py).
    handler = answer_link_application if is_answer_link(environ) else django_application
    response = handler(environ, start_response)
    if getattr(response, "streaming", True):  # files and streamed downloads: the server iterates them
        return response
    # A whole body in one piece: granian sends a list at once, where it would hand an iterator back and
    # forth between its threads and Python (that took a tenth of a one-click answer's server time).
    try:
        return [response.content]
    finally:
        response.close()
