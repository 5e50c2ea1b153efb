"""The API's error mapping, in one place: every refusal leaves as `{"code", "message", "field"}`.

- DomainError → its `http_status`, code, field and message (rendered in the request's language).
- ContentInvalid (master-data values) and request validation errors → 422 with the first field as
  `field` and every problem in an extra `errors` list.
- A wrong password in a signature block counts toward lockout (ES-09). The handler runs after the
  business transaction rolled back, so the count written here is kept.
- An unknown record → 404 `not_found`.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

from batchline.core.context import correlation_id
from batchline.core.errors import DomainError, InvalidInput, NotAuthenticated, NotFound
from batchline.identity.errors import AuthenticationFailed
from batchline.identity.services import register_failed_authentication
from batchline.masterdata.errors import ContentInvalid

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("batchline.api")

# Where a request value came from, as ninja names it: not part of the field path a client sees.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"
    http_status = 400
    default_message = _("API token callers must send an Idempotency-Key header with every POST and PUT.")


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid_idempotency_key"
    http_status = 400
    default_message = _("The Idempotency-Key header must be 1 to 200 printable ASCII characters.")


class CsrfFailed(DomainError):
    code = "csrf_failed"
    http_status = 403
    default_message = _("The CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's "
                        "value.")


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    http_status = 403
    default_message = _("Your password has expired or was reset: change it in the web interface first.")


def body(code: str, message: str, field: str | None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, **extra}


def _respond(api: NinjaAPI, request: HttpRequest, status: int, payload: dict[str, Any]) -> HttpResponse:
    response = api.create_response(request, payload, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="batchline"'
    return response


def domain_error(api: NinjaAPI, request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, AuthenticationFailed) and exc.user is not None:
        # Only signature blocks re-authenticate over the API: a wrong signing password (ES-09).
        register_failed_authentication(exc.user, context="signature")  # type: ignore[arg-type]
    payload = exc.as_dict()
    if isinstance(exc, ContentInvalid):
        payload["errors"] = [{"field": field, "message": str(message)} for field, message in exc.errors]
    return _respond(api, request, exc.http_status, payload)


def validation_error(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [_problem(error) for error in exc.errors]
    first = problems[0] if problems else {"field": None, "message": gettext("The input is not valid.")}
    payload = body("invalid_input", first["message"], first["field"], errors=problems)
    return _respond(api, request, 422, payload)


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0] in _SOURCES:
        location = location[1:]
    # A body parameter appears under its Python name (`payload`); clients never see that name.
    if len(location) > 1 and location[0] == "payload":
        location = location[1:]
    field = ".".join(location) or None
    message = _message(error, location[-1] if location else "")
    return {"field": field, "message": message, "type": error.get("type")}


def _message(error: dict[str, Any], name: str) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return gettext("This field is required.")
    if kind == "extra_forbidden":
        return gettext("Unknown field '{name}'.").format(name=name)
    if kind == "string_too_long":
        return gettext("At most {n} characters.").format(n=ctx.get("max_length"))
    if kind == "string_too_short":
        return gettext("At least {n} characters.").format(n=ctx.get("min_length"))
    if kind in {"string_type"}:
        return gettext("Expected a text value.")
    if kind in {"int_type", "int_from_float", "int_parsing"}:
        return gettext("Expected a whole number (not a decimal point number or text).")
    if kind in {"bool_type", "bool_parsing"}:
        return gettext("Expected true or false.")
    if kind in {"enum", "literal_error"}:
        return gettext("Expected one of: {allowed}.").format(allowed=ctx.get("expected", ""))
    if kind in {"datetime_type", "datetime_parsing", "datetime_from_date_parsing"}:
        return gettext("Expected a date and time in ISO 8601 with a time zone, e.g. 2026-01-31T08:00:00Z.")
    if kind == "timezone_aware":
        return gettext("The date and time needs a time zone, e.g. 2026-01-31T08:00:00Z.")
    if kind in {"greater_than_equal", "greater_than"}:
        return gettext("Must be at least {n}.").format(n=ctx.get("ge", ctx.get("gt")))
    if kind in {"less_than_equal", "less_than"}:
        return gettext("Must be at most {n}.").format(n=ctx.get("le", ctx.get("lt")))
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return gettext("Expected a JSON object.")
    if kind == "list_type":
        return gettext("Expected a JSON list.")
    return str(error.get("msg", gettext("The input is not valid.")))


def http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return domain_error(api, request, NotAuthenticated())
    if exc.status_code == 400:
        # ninja raises this one when the body is not JSON at all.
        message = gettext("The request body is not valid JSON.")
        return _respond(api, request, 400, body("invalid_json", message, None))
    return _respond(api, request, exc.status_code, body("http_error", str(exc), None))


def not_found(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    return domain_error(api, request, NotFound())


def unexpected(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path, exc_info=exc)
    message = gettext("The server could not complete the request. Quote the correlation id {cid} to support.")
    return _respond(api, request, 500, body("server_error", message.format(cid=correlation_id()), None))


def install(api: NinjaAPI) -> None:
    """Register the handlers; the most specific exception class wins (ninja walks the MRO)."""
    api.add_exception_handler(DomainError, partial(domain_error, api))
    api.add_exception_handler(ValidationError, partial(validation_error, api))
    api.add_exception_handler(HttpError, partial(http_error, api))
    api.add_exception_handler(Http404, partial(not_found, api))
    api.add_exception_handler(ObjectDoesNotExist, partial(not_found, api))
    api.add_exception_handler(Exception, partial(unexpected, api))
