"""Errors as JSON with a message and, where one is to blame, the offending field."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from itxm.analytics.periods import InvertedPeriod
from itxm.analytics.services import AnalyticsError
from itxm.analytics.xla import InvalidXla
from itxm.tabular import UnreadableFile
from itxm.tickets.services import IngestError


def error_body(message: str, field: str | None = None, **extra) -> dict:
    return {"message": message, "field": field, **extra}


def _field_of(error: dict) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
    return ".".join(location)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        details = [{"field": _field_of(e), "reason": e.get("msg", "invalid")} for e in exc.errors]
        first = details[0] if details else {"field": None, "reason": "invalid request"}
        message = f"{first['field']}: {first['reason']}" if first["field"] else first["reason"]
        return api.create_response(request, error_body(message, first["field"], errors=details), status=422)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(request, error_body("sign in or send a valid API token"), status=401)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return api.create_response(request, error_body("your role does not allow this"), status=403)

    @api.exception_handler(ObjectDoesNotExist)
    def missing(request, exc):
        return api.create_response(request, error_body("not found"), status=404)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body("not found"), status=404)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return api.create_response(request, error_body(exc.message), status=exc.status_code)

    @api.exception_handler(IngestError)
    def bad_delivery(request, exc):
        return api.create_response(request, error_body(str(exc), "body"), status=400)

    @api.exception_handler(UnreadableFile)
    def unreadable(request, exc):
        return api.create_response(request, error_body(str(exc), "file"), status=400)

    @api.exception_handler(AnalyticsError)
    @api.exception_handler(InvalidXla)
    @api.exception_handler(InvertedPeriod)
    def unanswerable(request, exc):
        return api.create_response(request, error_body(str(exc), exc.field or None), status=400)
