"""The registry of every message Batchline exchanges with other systems (INTERFACES.md).

One entry per message: its name, direction, transport and the Pydantic model that IS its contract.
`batchline schemas` publishes each model's JSON Schema to docs/schemas/, and `batchline datadict`
writes the data dictionary from those schemas, so neither document can drift from the code.

Description convention (as in api/schemas.py): one description per field, English first, then
Chinese: "Material code. 物料编码。". The dictionary splits it at the first Chinese character.
A quantity names its unit field with json_schema_extra={"unit_field": "<sibling field>"}.

Outbound messages are the envelope of core.outbox.envelope() with the payload typed per event
type. The master-data payload content is built from the master-data model's own fields (length,
decimal places, choices, nullability) and their translated labels, so a new field on a model
appears in the schema and the dictionary without anyone remembering to add it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from django.db import models
from django.utils import translation
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, create_model

from batchline.api.inbound import MaterialMasterMessage, PurchaseOrderMessage
from batchline.api.schemas import MaterialUpsertIn
from batchline.inventory.services import REGISTERED as PURCHASE_ORDER_REGISTERED
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.registry import KINDS, Kind

Direction = Literal["inbound", "outbound"]
OUTBOUND_TRANSPORT = "outbox → webhook (HTTP POST) / AMQP (routing key = event type) / MQTT"
# A decimal as the outbox writes it (core.quantity, masterdata.content.portable): a plain decimal
# string, never a JSON number (floating point is not exact).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


@dataclass(frozen=True)
class Message:
    name: str
    direction: Direction
    transport: str
    model: type[BaseModel]
    summary: str  # English. 中文。

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"


# --- outbound: the envelope ---------------------------------------------------------------------

class Envelope(BaseModel):
    """Every outbound message: the same body to every destination (core.outbox.envelope)."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", max_length=36,
        description="Message id (UUID): the same id on every retry, so receivers drop duplicates. "
                    "消息标识（UUID）：重发时不变，接收方据此去重。")
    event_type: str = Field(max_length=100, description=(
        "Event type, e.g. masterdata.material.approved; the AMQP routing key. 事件类型，亦为 AMQP 路由键。"))
    schema_version: str = Field(max_length=10, description=(
        "Version of this message's schema. 消息结构版本。"))
    occurred_at: AwareDatetime = Field(description=(
        "When the change was committed, UTC, ISO 8601. 业务变更提交时间（UTC，ISO 8601）。"))
    source_system: Literal["batchline"] = Field(description=(
        "Sending system: always batchline. 发送系统：固定为 batchline。"))
    record_type: str = Field(max_length=100, description=(
        "Type of the record the event is about, e.g. masterdata.material. 事件所涉记录的类型。"))
    record_id: str = Field(max_length=64, description=(
        "Id of the record; messages of one record arrive in order. 记录标识；同一记录的消息按顺序送达。"))
    correlation_id: str = Field(max_length=64, description=(
        "Correlation id of the request that caused the event (may be empty). "
        "触发该事件的请求的关联标识（可为空）。"))
    payload: dict[str, Any] = Field(description="Event content, per event type. 事件内容，随事件类型而定。")


# --- outbound: master-data events -----------------------------------------------------------------

def _label(text: Any, language: str) -> str:
    with translation.override(language):
        return str(text)


# Labels that are the same in both languages (acronyms) get a Chinese gloss here.
_ZH_GLOSS = {"GTIN": "商品条码 GTIN", "GLN": "全球位置码 GLN"}


def _described(field: models.Field[Any, Any], *, linked: bool = False) -> str:
    en, zh = _label(field.verbose_name, "en"), _label(field.verbose_name, "zh-hans")
    zh = _ZH_GLOSS.get(zh, zh)
    if linked:
        en, zh = f"{en} (code)", f"{zh}编码"
    return f"{en[:1].upper()}{en[1:]}. {zh}。"


def _one_of(*values: str) -> Any:
    """Literal["a", "b", ...] built from values known only at run time (choices, event types)."""
    return Literal.__getitem__(values)


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _content_field(field: models.Field[Any, Any]) -> tuple[Any, Any]:
    """The JSON type of one master-data field, as masterdata.content.portable() writes it."""
    description = _described(field, linked=isinstance(field, models.ForeignKey))
    nullable = field.null
    annotation: Any
    if isinstance(field, models.ForeignKey):
        target = _model_field(field.related_model, "code")  # type: ignore[arg-type]
        annotation = str
        info = Field(max_length=target.max_length, description=description)
    elif isinstance(field, models.DecimalField):
        annotation = str
        info = Field(pattern=DECIMAL_PATTERN, description=description, json_schema_extra={
            "max_digits": field.max_digits, "decimal_places": field.decimal_places})
    elif isinstance(field, models.BooleanField):
        annotation = bool
        info = Field(description=description)
    elif isinstance(field, (models.IntegerField,)):
        annotation = StrictInt
        info = Field(ge=0 if isinstance(field, models.PositiveIntegerField) else None, description=description)
    elif field.choices:
        annotation = _one_of(*(value for value, _label_ in field.choices))
        info = Field(description=description)
    else:  # CharField, TextField
        annotation = str
        info = Field(max_length=field.max_length, description=description)
    if nullable:
        annotation = annotation | None
    return annotation, info


@cache
def content_model(kind: Kind) -> type[BaseModel]:
    model = kind.model
    fields: dict[str, Any] = {name: _content_field(_model_field(model, name)) for name in model.content_fields}
    return create_model(
        f"{model.__name__}Content", __config__=ConfigDict(extra="forbid"),
        __doc__=f"The {kind.slug} as approved: linked items by code, decimals as strings.", **fields)


def _payload_model(kind: Kind, with_change: bool) -> type[BaseModel]:
    name = kind.model.__name__
    fields: dict[str, Any] = {
        "kind": (_one_of(kind.slug), Field(description=(
            "Master-data kind. 主数据类别。"))),
        "code": (str, Field(max_length=40, description="Code of the item. 主数据编码。")),
        "version": (StrictInt, Field(ge=1, description="Approved version number. 已批准版本号。")),
        "status": (_one_of(*RecordStatus.values), Field(description=(
            "Status after the change: draft, approved or retired. 变更后状态：草稿、已批准、已停用。"))),
        "content": (content_model(kind), Field(description=(
            "The item's content at this version. 该版本的主数据内容。"))),
    }
    if with_change:
        fields["change_control_ref"] = (str, Field(max_length=50, description=(
            "Change-control reference of the approved change. 已批准变更的变更控制编号。")))
    suffix = "ChangePayload" if with_change else "ApprovalPayload"
    return create_model(
        f"{name}{suffix}", __config__=ConfigDict(extra="forbid"), **fields)


def event_model(event_type: str, payload: type[BaseModel]) -> type[BaseModel]:
    model_name = "".join(part.capitalize() for part in event_type.replace("_", ".").split(".")) + "Event"
    return create_model(
        model_name, __base__=Envelope,
        event_type=(_one_of(event_type), Field(max_length=100, description=(
            "Event type; the AMQP routing key. 事件类型，亦为 AMQP 路由键。"))),
        payload=(payload, Field(description="Event content. 事件内容。")))


_EVENTS = (
    ("approved", False, "A new {slug} was approved (version 1). 新{zh}已批准（第 1 版）。"),
    ("changed", True, "An approved change to {a} {slug} took effect. {zh}的变更已批准生效。"),
    ("retired", True, "{A} {slug} was retired through an approved change. {zh}经批准的变更已停用。"),
)


def _masterdata_events() -> list[Message]:
    out = []
    for kind in KINDS.values():
        zh = _label(kind.label, "zh-hans")
        article = "an" if kind.slug[0] in "aeiou" else "a"
        for action, with_change, summary in _EVENTS:
            event_type = f"masterdata.{kind.slug}.{action}"
            out.append(Message(event_type, "outbound", OUTBOUND_TRANSPORT,
                               event_model(event_type, _payload_model(kind, with_change)),
                               summary.format(slug=kind.slug, zh=zh, a=article, A=article.capitalize())))
    return out


# --- outbound: purchase orders (inventory.services) ------------------------------------------------

class PurchaseOrderLinePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: StrictInt = Field(ge=1, description="Line number within the order. 行号。")
    material: str = Field(max_length=40, description="Batchline material code. 物料编码。")
    quantity: str = Field(pattern=DECIMAL_PATTERN, description=(
        "Ordered quantity, a decimal string. 订购数量（十进制字符串）。"),
                          json_schema_extra={"unit_field": "unit", "max_digits": 18, "decimal_places": 6})
    unit: str = Field(max_length=40, description="Batchline unit code of the quantity. 数量的计量单位编码。")
    expected_date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description=(
        "Expected delivery date, ISO 8601. 预计到货日期（ISO 8601）。"))


class PurchaseOrderPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["created", "updated"] = Field(description=(
        "created: a new order; updated: an open order's lines were replaced. "
        "created 新建订单；updated 未关闭订单的行已替换。"))
    po_number: str = Field(max_length=40, description="Purchase order number of the sender. 采购订单号。")
    source_system: str = Field(max_length=40, description="System the order came from. 订单来源系统。")
    supplier: str = Field(max_length=40, description="Batchline supplier code. 供应商编码。")
    # The same values as inventory.models.PurchaseOrderStatus (a test holds them equal).
    status: Literal["open", "closed", "cancelled"] = Field(description=(
        "Order status: open, closed or cancelled. 订单状态：未关闭、已关闭、已取消。"))
    lines: list[PurchaseOrderLinePayload] = Field(description="Order lines: the expected receipts. 订单行：预计收货。")


# --- the registry -------------------------------------------------------------------------------

@cache
def messages() -> tuple[Message, ...]:
    """Every message, in a stable order: outbound events first, then inbound calls; then each later
    context's messages from its own module (messages_<context>.py), which builds on this one."""
    from batchline.api import messages_environment, messages_equipment, messages_warehouse

    return (
        *_masterdata_events(),
        Message("erp.material.upsert", "inbound", "REST PUT /api/v1/masterdata/materials/{code} (Idempotency-Key)",
                MaterialUpsertIn, "ERP material master: create or change a material. ERP 物料主数据：新建或变更物料。"),
        Message(PURCHASE_ORDER_REGISTERED, "outbound", OUTBOUND_TRANSPORT,
                event_model(PURCHASE_ORDER_REGISTERED, PurchaseOrderPayload),
                "A purchase order (expected receipts) was registered or updated from the ERP. "
                "来自 ERP 的采购订单（预计收货）已登记或更新。"),
        Message("erp.material-master", "inbound",
                "REST POST /api/v1/inbound/{source_system}/material-master (message_id = idempotency key)",
                MaterialMasterMessage, "ERP material master as an enveloped message. 带信封的 ERP 物料主数据消息。"),
        Message("erp.purchase-order", "inbound",
                "REST POST /api/v1/inbound/{source_system}/purchase-orders (message_id = idempotency key)",
                PurchaseOrderMessage,
                "ERP purchase order / ASN: expected receipts. ERP 采购订单/预先发货通知：预计收货。"),
        *messages_warehouse.messages(),
        *messages_equipment.messages(),
        *messages_environment.messages(),
    )


def message(name: str) -> Message:
    return next(m for m in messages() if m.name == name)

