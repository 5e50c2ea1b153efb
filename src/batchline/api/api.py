"""api: the REST API at /api/v1 (django-ninja), for ERP, WMS, LIMS and the plant's own HMIs.

docs/api.md describes authentication, idempotency keys, the error format and signatures; the schema
is committed as docs/openapi.json and checked by `batchline openapi --check`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from batchline.api import (
    audit,
    environment,
    equipment,
    equipment_devices,
    errors,
    identity,
    inbound,
    integration,
    masterdata,
    warehouse_picking,
    warehouse_receiving,
    warehouse_stock,
)
from batchline.api.auth import AUTH, docs_require_sign_in, in_request_language

DESCRIPTION = """\
Batchline's REST API for ERP, WMS, LIMS and the plant's own systems.

* **Authentication**: `Authorization: Bearer bl_...` (an API token with scopes) or a signed-in web
  session (send `X-CSRFToken` with unsafe methods). Every endpoint needs one.
* **Idempotency**: send `Idempotency-Key` with every POST and PUT (required for tokens); a replay
  returns the first response and changes nothing.
* **Errors**: `{"code", "message", "field"}` with a 4xx status; messages follow `Accept-Language`
  (zh-hans by default, en).
* **Quantities** are decimal strings ("12.500"), never JSON floating-point numbers; times are UTC ISO 8601.

See docs/api.md in the Batchline distribution.
"""


class Encoder(NinjaJSONEncoder):
    """Times in full ISO 8601 (microseconds, `Z`), the same in every response."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


class Renderer(JSONRenderer):
    encoder_class = Encoder
    json_dumps_params = {"ensure_ascii": False}


IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": ("Required from API-token callers on POST and PUT. A replay returns the first response "
                    "and changes nothing; the same key with a different request is refused (409)."),
}
# POST operations that change nothing and so take no key.
_READ_ONLY_POSTS = {"verify", "inventory_resolve_scan"}


class BatchlineAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Short, stable ids for generated clients: the view function's name (unique across routers).
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for item in schema["paths"].values():
            for method, operation in item.items():
                if method in {"post", "put", "patch"} and operation["operationId"] not in _READ_ONLY_POSTS:
                    operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
        return schema


api = BatchlineAPI(
    title="Batchline API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    renderer=Renderer(),
    # Served from the static files inside the ninja package (no CDN: plants are often air-gapped);
    # no call-out to the online validator either.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_decorator=docs_require_sign_in,
)
errors.install(api)
api.add_decorator(in_request_language, mode="view")
api.add_router("/", identity.me_router)
api.add_router("/masterdata", masterdata.router)
api.add_router("/audit", audit.router)
api.add_router("/identity", identity.router)
api.add_router("/inbound", inbound.router)
api.add_router("/integration", integration.router)
api.add_router("/inventory", warehouse_stock.router)
api.add_router("/inventory", warehouse_receiving.router)
api.add_router("/inventory", warehouse_picking.router)
api.add_router("/equipment", equipment.router)
api.add_router("/equipment", equipment_devices.router)
api.add_router("/environment", environment.router)
