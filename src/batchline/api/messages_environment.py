"""The environment messages of the registry in api/messages.py (same conventions: English. 中文。 descriptions,
decimals as strings, a quantity names its unit field). Each outbound event type the environment context
emits has its message here; tests/environment hold real events against these models. Inbound: the
reading a room sensor publishes over MQTT, and the batch a gateway posts over the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema

from batchline.api.environment import ReadingsIn
from batchline.api.messages import DECIMAL_PATTERN, OUTBOUND_TRANSPORT, Message, event_model
from batchline.environment.events import ACKNOWLEDGED, CLEARED, ESCALATED, EXCURSION, RAISED

TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"
ParameterValue = Literal["temperature", "humidity", "dp", "particles_0_5", "particles_5_0"]
_VALUE = {"max_digits": 16, "decimal_places": 4}


class LimitsPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_low: str | None = Field(pattern=DECIMAL_PATTERN, description="Alert low limit; null: none. 警戒下限。")
    alert_high: str | None = Field(pattern=DECIMAL_PATTERN, description="Alert high limit. 警戒上限。")
    action_low: str | None = Field(pattern=DECIMAL_PATTERN, description="Action low limit. 行动下限。")
    action_high: str | None = Field(pattern=DECIMAL_PATTERN, description="Action high limit. 行动上限。")


class AlarmPayload(BaseModel):
    """An alarm as it stands after the change the event reports (environment.events.alarm_payload)."""

    model_config = ConfigDict(extra="forbid")

    alarm: str = Field(max_length=20, description="Alarm number, ALM-000001. 报警编号。")
    alarm_id: StrictInt = Field(description="Alarm id. 报警标识。")
    room: str = Field(max_length=40, description="Room code. 房间编码。")
    sensor: str = Field(max_length=64, description="Sensor id. 传感器编号。")
    parameter: ParameterValue = Field(description=(
        "Parameter: temperature, humidity, dp (differential pressure), particles_0_5, particles_5_0. "
        "参数：温度、湿度、压差、≥0.5 µm 粒子、≥5.0 µm 粒子。"))
    level: Literal["alert", "action"] = Field(description="Alarm level. 报警级别：警戒、行动。")
    state: Literal["open", "acknowledged", "closed"] = Field(description=(
        "open: to be acknowledged; acknowledged; closed: acknowledged and back within limits. "
        "状态：待确认、已确认、已关闭（已确认且恢复正常）。"))
    direction: Literal["high", "low"] = Field(description="Above the high or below the low limit. 超上限或低于下限。")
    first_value: str = Field(pattern=DECIMAL_PATTERN, description="Value that opened the alarm. 触发报警的数值。",
                             json_schema_extra={"unit_field": "unit", **_VALUE})
    peak_value: str = Field(pattern=DECIMAL_PATTERN, description="Furthest value so far. 迄今最偏离的数值。",
                            json_schema_extra={"unit_field": "unit", **_VALUE})
    unit: str = Field(max_length=12, description="Unit: °C, %RH, Pa, /m³. 单位。")
    limits: LimitsPayload = Field(description="Limits in force when it opened. 报警时生效的限度。")
    opened_at: str = Field(pattern=TIME_PATTERN, description="When it opened, UTC. 报警时间（UTC）。")
    peak_at: str = Field(pattern=TIME_PATTERN, description="Source time of the peak value, UTC. 峰值测量时间。")
    escalated_at: str | None = Field(pattern=TIME_PATTERN, description=(
        "When it reached action level, UTC. 升级为行动级别的时间。"))
    cleared_at: str | None = Field(pattern=TIME_PATTERN, description=(
        "When readings came back within alert limits, UTC. 恢复至警戒限内的时间。"))
    acknowledged_at: str | None = Field(pattern=TIME_PATTERN, description="When it was acknowledged, UTC. 确认时间。")
    acknowledged_by: str | None = Field(max_length=64, description="User id of who signed. 确认（签名）人用户名。")
    closed_at: str | None = Field(pattern=TIME_PATTERN, description="When it closed, UTC. 关闭时间。")


class ExcursionPayload(BaseModel):
    """An alarm that reached action level: the deviation trigger (environment.events.excursion_payload)."""

    model_config = ConfigDict(extra="forbid")

    excursion: str = Field(max_length=20, description="Excursion number, EXC-000001. 超限编号。")
    excursion_id: StrictInt = Field(description="Excursion id. 超限标识。")
    alarm: str = Field(max_length=20, description="Alarm number. 报警编号。")
    alarm_id: StrictInt = Field(description="Alarm id. 报警标识。")
    room: str = Field(max_length=40, description="Room code. 房间编码。")
    room_grade: Literal["A", "B", "C", "D", "CNC", "U"] = Field(description="Cleanroom grade. 洁净级别。")
    sensor: str = Field(max_length=64, description="Sensor id. 传感器编号。")
    parameter: ParameterValue = Field(description="Parameter. 参数。")
    value: str = Field(pattern=DECIMAL_PATTERN, description="Value at action level. 达到行动限的数值。",
                       json_schema_extra={"unit_field": "unit", **_VALUE})
    unit: str = Field(max_length=12, description="Unit. 单位。")
    limits: LimitsPayload = Field(description="Limits in force. 生效的限度。")
    measured_at: str = Field(pattern=TIME_PATTERN, description="Source time of the reading, UTC. 读数测量时间。")
    raised_at: str = Field(pattern=TIME_PATTERN, description="When Batchline raised it, UTC. 超限记录时间。")


class MqttReading(BaseModel):
    """What a room sensor (or its gateway) publishes to <prefix>/<room code>/<sensor id>, QoS 1."""

    model_config = ConfigDict(extra="forbid")

    sensor: str = Field(max_length=64, description=(
        "Registered sensor id; must match the topic's last level. 已登记的传感器编号，须与主题末级一致。"))
    parameter: ParameterValue | None = Field(default=None, description=(
        "Parameter; if given, must be the sensor's. 参数；如提供须与传感器登记的一致。"))
    value: Annotated[Decimal, WithJsonSchema({"type": "number"})] | None = Field(description=(
        "Measured value, a JSON number, read as an exact decimal (a decimal string is accepted too); null only "
        "when quality is bad. 测量值（JSON 数字，按精确十进制读取；也接受十进制字符串）；仅质量为 bad 时可为空。"),
        json_schema_extra={"unit_field": "unit", **_VALUE})
    unit: str | None = Field(default=None, max_length=20, description=(
        "Unit: °C (C, degC), %RH (%), Pa, /m³ (/m3). 单位。"))
    ts: AwareDatetime = Field(description=(
        "Source timestamp, ISO 8601 with time zone (milliseconds since 1970 UTC are accepted too). "
        "测量时间，带时区的 ISO 8601（也接受 1970 年起的 UTC 毫秒数）。"))
    quality: Literal["good", "uncertain", "bad"] | None = Field(default=None, description=(
        "Quality stated by the source; missing is stored as uncertain. 来源质量；缺省按 uncertain 记录。"))
    seq: StrictInt | None = Field(default=None, description="Sender's sequence number. 发送方序号。")


_ALARM_EVENTS = (
    (RAISED, "A room sensor's reading went beyond the alert or action limit: an alarm opened. "
             "房间传感器读数超出警戒限或行动限：报警已产生。"),
    (ESCALATED, "An alert alarm reached action level. 警戒级报警已升级为行动级。"),
    (CLEARED, "The readings of an alarm came back within alert limits. 报警读数已恢复至警戒限内。"),
    (ACKNOWLEDGED, "An alarm was acknowledged with an electronic signature. 报警已经电子签名确认。"),
)


def messages() -> list[Message]:
    out = [Message(name, "outbound", OUTBOUND_TRANSPORT, event_model(name, AlarmPayload), summary)
           for name, summary in _ALARM_EVENTS]
    out += [
        Message(EXCURSION, "outbound", OUTBOUND_TRANSPORT, event_model(EXCURSION, ExcursionPayload),
                "A room parameter reached action level: an excursion (quality opens a deviation). "
                "房间参数达到行动限：超限（质量模块据此开立偏差）。"),
        Message("ems.reading", "inbound", "MQTT <prefix>/<room code>/<sensor id>, QoS 1, JSON",
                MqttReading, "A room sensor's reading. 房间传感器读数。"),
        Message("ems.readings", "inbound", "REST POST /api/v1/environment/readings (Idempotency-Key)",
                ReadingsIn, "A gateway's batch of room sensor readings. 网关批量上传的房间传感器读数。"),
    ]
    return out
