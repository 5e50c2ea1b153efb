"""The interface monitor and destination configuration over the API (INT-03, INT-06).

Core's services carry no permission check (core sits below identity): each endpoint authorizes the
caller first — integration.view to read, integration.configure to change destinations,
integration.replay to send a dead-lettered message again. Secrets are write-only: no response
carries a webhook secret, and a password in a broker URL comes back as ***.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field, StrictBool, StrictInt

from batchline.api.auth import caller
from batchline.api.idempotency import respond
from batchline.api.schemas import ERRORS, In, PageQuery
from batchline.core import destinations, monitor, outbox
from batchline.core.errors import NotFound
from batchline.core.models import DEFAULT_MAX_ATTEMPTS, Delivery, Destination
from batchline.identity.authz import authorize

router = Router(tags=["integration"])

VIEW = "integration.view"
CONFIGURE = "integration.configure"
REPLAY = "integration.replay"

Kind = Literal["webhook", "amqp", "mqtt"]


class DestinationOut(Schema):
    code: str
    name: str
    kind: str
    url: str = Field(description="A password inside the URL is shown as ***.")
    has_secret: bool = Field(description="Whether a webhook secret is set (the secret itself is never shown).")
    exchange: str
    topic_prefix: str
    event_types: list[str]
    max_attempts: int
    timeout_seconds: int
    active: bool
    created_at: datetime


class DestinationIn(In):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    kind: Kind
    url: str = Field(max_length=500)
    secret: str = Field(default="", max_length=200, description="Webhook: HMAC-SHA256 key, at least 16 characters.")
    exchange: str = Field(default="", max_length=200, description="AMQP: the durable topic exchange.")
    topic_prefix: str = Field(default="", max_length=200, description="MQTT: topics are <prefix>/<event/type>.")
    event_types: list[str] = Field(description='Patterns: "masterdata.material.approved", "masterdata.*", "*".')
    max_attempts: StrictInt = Field(default=DEFAULT_MAX_ATTEMPTS,
                                    description="Attempts before dead-lettering, 1 to 100.")
    timeout_seconds: StrictInt = Field(default=10, description="Seconds per attempt, 1 to 120.")
    active: StrictBool = True


class DestinationPatch(In):
    """Only the fields given change. `active` switches the destination on or off."""

    reason: str = Field(max_length=2000, description="Why: recorded in the audit trail.")
    name: str | None = Field(default=None, max_length=200)
    kind: Kind | None = None
    url: str | None = Field(default=None, max_length=500)
    secret: str | None = Field(default=None, max_length=200, description="A new webhook secret; omit to keep it.")
    exchange: str | None = Field(default=None, max_length=200)
    topic_prefix: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = None
    max_attempts: StrictInt | None = None
    timeout_seconds: StrictInt | None = None
    active: StrictBool | None = None


class FiguresOut(Schema):
    destination: str
    name: str
    kind: str
    active: bool
    pending: int
    failing: int = Field(description="Of the pending: those whose last attempt failed, waiting for their retry.")
    delivered: int
    dead: int
    oldest_pending_age_seconds: float | None
    latency_p50_seconds: float | None = Field(description="delivered_at − occurred_at, last 24 hours.")
    latency_p95_seconds: float | None
    last_error: str
    last_error_at: datetime | None
    blocked_records: int = Field(description="Records whose later messages wait behind a dead-lettered one.")


class DeliveryOut(Schema):
    id: int
    destination: str
    message_id: str
    event_type: str
    record_type: str
    record_id: str
    occurred_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    delivered_at: datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    count: int
    page: int
    page_size: int


class DeliveryQuery(Schema):
    destination: str | None = Field(default=None, description="A destination code.")
    status: Literal["pending", "delivered", "dead"] | None = None


class ReplayIn(In):
    reason: str = Field(max_length=2000, description="Why the message is sent again: recorded in the audit trail.")


def destination_out(destination: Destination) -> dict[str, Any]:
    return DestinationOut(
        code=destination.code, name=destination.name, kind=destination.kind,
        url=destinations.masked_url(destination.url), has_secret=bool(destination.secret),
        exchange=destination.exchange, topic_prefix=destination.topic_prefix, event_types=destination.event_types,
        max_attempts=destination.max_attempts, timeout_seconds=destination.timeout_seconds,
        active=destination.active, created_at=destination.created_at,
    ).model_dump(mode="json")


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if value is not None else None


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return DeliveryOut(
        id=delivery.pk, destination=delivery.destination.code, message_id=str(delivery.event.message_id),
        event_type=delivery.event.event_type, record_type=delivery.record_type, record_id=delivery.record_id,
        occurred_at=delivery.event.occurred_at, status=delivery.status, attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at, last_attempt_at=delivery.last_attempt_at,
        last_error=delivery.last_error, delivered_at=delivery.delivered_at,
    ).model_dump(mode="json")


@router.get("/destinations", response={200: list[DestinationOut], **ERRORS})
def list_destinations(request: HttpRequest) -> list[dict[str, Any]]:
    authorize(caller(request), VIEW)
    return [destination_out(d) for d in Destination.objects.order_by("code")]


@router.post("/destinations", response={201: DestinationOut, **ERRORS})
def create_destination(request: HttpRequest, payload: DestinationIn) -> HttpResponse:
    """Register a destination (audited; the secret is recorded as *** only)."""
    actor = caller(request)
    authorize(actor, CONFIGURE)

    def action() -> tuple[int, Any]:
        destination = destinations.create_destination(actor=actor, **payload.model_dump())
        return 201, destination_out(destination)

    return respond(request, action)


@router.patch("/destinations/{code}", response={200: DestinationOut, **ERRORS})
def update_destination(request: HttpRequest, code: str, payload: DestinationPatch) -> HttpResponse:
    """Change settings and/or switch the destination on or off; each change is audited with the reason."""
    actor = caller(request)
    authorize(actor, CONFIGURE)

    def action() -> tuple[int, Any]:
        changes = {k: v for k, v in payload.model_dump(exclude={"reason", "active"}).items() if v is not None}
        with transaction.atomic():  # settings and the switch change together or not at all
            if changes or payload.active is None:
                # With nothing to change, the service refuses (409 no_change).
                destinations.update_destination(actor=actor, code=code, reason=payload.reason, **changes)
            if payload.active is not None:
                current = Destination.objects.filter(code=code).first()
                if current is None:
                    raise NotFound(field="code")
                if payload.active != current.active or not changes:
                    destinations.set_active(actor=actor, code=code, active=payload.active, reason=payload.reason)
            return 200, destination_out(Destination.objects.get(code=code))

    return respond(request, action)


@router.get("/monitor", response={200: list[FiguresOut], **ERRORS})
def interface_monitor(request: HttpRequest) -> list[dict[str, Any]]:
    """Per destination: pending, failing, delivered, dead-lettered, oldest pending age, latency, last error."""
    authorize(caller(request), VIEW)
    return [FiguresOut(
        destination=f.destination.code, name=f.destination.name, kind=f.destination.kind,
        active=f.destination.active, pending=f.pending, failing=f.failing, delivered=f.delivered, dead=f.dead,
        oldest_pending_age_seconds=_seconds(f.oldest_pending_age), latency_p50_seconds=_seconds(f.latency_p50),
        latency_p95_seconds=_seconds(f.latency_p95), last_error=f.last_error, last_error_at=f.last_error_at,
        blocked_records=f.blocked_records,
    ).model_dump(mode="json") for f in monitor.monitor()]


@router.get("/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(request: HttpRequest, query: Query[DeliveryQuery], paging: Query[PageQuery]) -> dict[str, Any]:
    authorize(caller(request), VIEW)
    found = monitor.deliveries(destination=query.destination, status=query.status)
    start = (paging.page - 1) * paging.page_size
    return {"items": [delivery_out(d) for d in found[start:start + paging.page_size]], "count": found.count(),
            "page": paging.page, "page_size": paging.page_size}


@router.post("/deliveries/{delivery_id}/replay", response={200: DeliveryOut, **ERRORS})
def replay_delivery(request: HttpRequest, delivery_id: int, payload: ReplayIn) -> HttpResponse:
    """Send a dead-lettered message again (audited with the reason)."""
    actor = caller(request)
    authorize(actor, REPLAY)

    def action() -> tuple[int, Any]:
        outbox.replay(actor=actor, delivery_id=delivery_id, reason=payload.reason)
        found = monitor.delivery_detail(delivery_id)
        assert found is not None
        return 200, delivery_out(found[0])

    return respond(request, action)
