"""The REST API root (django-ninja): /api/v1/…, OpenAPI schema at /api/openapi.json, docs at /api/docs.

Errors are JSON `{"code", "message", "details"?}`; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from pivotdesk.accounts.api_auth import SessionAuth, TokenAuth
from pivotdesk.common.errors import DomainError
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.common.request_size import PAYLOAD_TOO_LARGE, too_large_message

log = logging.getLogger(__name__)


class GuardedParser(Parser):
    """JSON bodies nested too deep are refused before parsing (see `pivotdesk.common.json_guard`)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return cast(dict[str, Any], loads_guarded(request.body))


class DocumentedAPI(NinjaAPI):
    """The API whose schema documents the errors any operation may answer (issue 11: the fuzzer checks that every
    status code is documented): 401 (no valid token or session), 422 (a path, query or body that does not validate),
    429 (rate limited); 404 where the path names an object; and for every write the project's `ERRORS` set (400 a
    body that does not parse, 403 the gate, 404, 409 a conflict) and 413 where a body is sent."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error: dict[str, Any] = {"$ref": "#/components/schemas/ErrorOut"}
        if "ErrorOut" not in schema.get("components", {}).get("schemas", {}):
            error = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
        common = {401: "Authentication required.", 422: "The request did not validate.", 429: "Too many requests."}
        writes = {400: "Bad request.", 403: "Refused by the permission gate.", 404: "Not found.", 409: "Conflict."}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                wanted = dict(common)
                if "{" in path:
                    wanted[404] = "Not found."
                if method != "get":
                    wanted |= writes
                if "requestBody" in operation:
                    wanted[413] = "The request body is too large."
                for status, description in wanted.items():
                    if status not in responses and str(status) not in responses:
                        content = {"application/json": {"schema": error}}
                        responses[status] = {"description": description, "content": content}
        return schema


api = DocumentedAPI(
    title="PivotDesk API",
    version="1.0.0",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=[TokenAuth(), SessionAuth()],
    parser=GuardedParser(),
    description=(
        "REST API of PivotDesk. Authenticate with `Authorization: Bearer pd_…` (a personal API token, created in "
        "the UI or with `pivotdesk create-token`) or the agent UI's session. Errors are JSON objects with a "
        "machine `code` and a readable `message`."
    ),
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: object = None) -> HttpResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status_code, exc.code, exc.message, exc.details or None)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return _error(request, 422, "validation_failed", "The request did not validate.", details)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", "Authentication required: a valid API token or a session.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, PAYLOAD_TOO_LARGE, too_large_message())


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


# Routers are mounted here, one per app (the API work fills these in).
from pivotdesk.accounts.api import router as accounts_router  # noqa: E402
from pivotdesk.customers.api import router as customers_router  # noqa: E402
from pivotdesk.notifications.api import router as notifications_router  # noqa: E402
from pivotdesk.routing.api import router as routing_router  # noqa: E402
from pivotdesk.sla.api import router as sla_router  # noqa: E402
from pivotdesk.surveys.api import router as satisfaction_router  # noqa: E402
from pivotdesk.tickets.api import router as tickets_router  # noqa: E402
from pivotdesk.tickets.api_configuration import router as ticket_configuration_router  # noqa: E402
from pivotdesk.webhooks.api import router as webhooks_router  # noqa: E402
from pivotdesk.workforce.api import router as workforce_router  # noqa: E402

api.add_router("/v1/", accounts_router)
api.add_router("/v1/", customers_router)
api.add_router("/v1/", tickets_router)
api.add_router("/v1/", ticket_configuration_router)
api.add_router("/v1/", sla_router)
api.add_router("/v1/webhooks/", webhooks_router)
api.add_router("/v1/routing/", routing_router)
api.add_router("/v1/notifications/", notifications_router)
api.add_router("/v1/workforce/", workforce_router)
api.add_router("/v1/satisfaction/", satisfaction_router)
api.add_router("/v1/", "pivotdesk.automation.api.router")
api.add_router("/v1/", "pivotdesk.knowledge.api.router")
