"""The equipment messages of the registry in api/messages.py (same conventions: English. 中文。 descriptions,
decimals as strings, a quantity names its unit field)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from batchline.api.equipment import KindValue
from batchline.api.messages import DECIMAL_PATTERN, OUTBOUND_TRANSPORT, Message, event_model
from batchline.equipment.cleaning import VERIFIED as CLEANING_VERIFIED
from batchline.equipment.holds import HOLD_EXPIRED
from batchline.equipment.qualification import CALIBRATION_RECORDED, QUALIFICATION_RECORDED
from batchline.equipment.register import CHANGED, REGISTERED, RETIRED
from batchline.equipment.status import STATUS_CHANGED


def messages() -> list[Message]:
    return [*register_messages(), *device_messages()]


# --- register, status, cleaning, qualification, calibration (equipment.register, .status, .cleaning,
# .qualification, .holds) ------------------------------------------------------------------------------

# The same values as equipment.choices (tests/api/test_equipment_messages.py holds them equal).
EquipmentStatusValue = Literal["clean", "in_use", "dirty", "cleaning", "maintenance", "out_of_service", "quarantined"]
StatusActionValue = Literal["start_use", "end_use", "start_cleaning", "verify_cleaning", "reject_cleaning",
                            "take_out_of_use", "release", "failed_record"]
ResultValue = Literal["pass", "fail", "adjusted"]
CleanTypeValue = Literal["minor", "major"]
EQ_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIME = "UTC ISO 8601"


def _decimal_field(description: str, places: int = 6, digits: int = 18) -> Any:
    return Field(pattern=DECIMAL_PATTERN, description=description,
                 json_schema_extra={"max_digits": digits, "decimal_places": places})


class EquipmentRegisterPayload(BaseModel):
    """The register entry of one piece of equipment (equipment.register.portable)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40, description="Equipment id. 设备编号。")
    name_zh: str = Field(max_length=200, description="Name in Chinese. 中文名称。")
    name_en: str = Field(max_length=200, description="Name in English. 英文名称。")
    kind: KindValue = Field(description="Type of equipment. 设备类型。")
    equipment_class: str = Field(max_length=40, description="Equipment class recipes ask for. 设备类别。")
    room: str | None = Field(max_length=40, description="Room code. 房间编码。")
    capacity: str | None = _decimal_field("Working capacity. 工作容量。")
    capacity_unit: str | None = Field(max_length=40, description="Unit of the capacity. 容量单位。")
    product_contact_parts: str = Field(description="Product-contact parts. 与产品接触的部件。")
    manufacturer: str = Field(max_length=100, description="Manufacturer. 制造商。")
    model_number: str = Field(max_length=100, description="Model. 型号。")
    serial_number: str = Field(max_length=100, description="Serial number. 出厂编号。")
    weighing_unit: str | None = Field(max_length=40, description="Balances: weighing unit. 天平：称量单位。")
    max_load: str | None = _decimal_field("Balances: maximum load. 天平：最大称量。")
    readability: str | None = _decimal_field("Balances: readability d. 天平：实际分度值。")
    minimum_weight: str | None = _decimal_field(
        "Balances: minimum weight. 天平：最小称量值。")
    clean_hold_hours: StrictInt | None = Field(ge=1, description="Clean-hold time, hours. 清洁有效期（小时）。")
    dirty_hold_hours: StrictInt | None = Field(ge=1, description=(
        "Dirty-hold time, hours. 待清洁最长放置时间（小时）。"))
    opcua_endpoint: str = Field(max_length=200, description="OPC UA endpoint. OPC UA 服务地址。")
    opcua_node: str = Field(max_length=200, description="OPC UA node. OPC UA 节点。")
    ideal_rate_per_minute: str | None = _decimal_field(
        "OEE: ideal rate per minute. OEE：理论速率（每分钟）。", places=3, digits=12)
    status: EquipmentStatusValue = Field(description="Status. 设备状态。")
    active: StrictBool = Field(description="False once retired. 报废停用后为 false。")


class EquipmentChangedPayload(EquipmentRegisterPayload):
    changed: list[str] = Field(description="Names of the fields that changed. 变更的字段名。")
    reason: str = Field(description="Reason for the change. 变更原因。")


class EquipmentRetiredPayload(EquipmentRegisterPayload):
    reason: str = Field(description="Reason for retiring. 报废停用原因。")


class EquipmentStatusChangedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    status: EquipmentStatusValue = Field(description="New status. 新状态。")
    previous_status: EquipmentStatusValue = Field(description="Status before. 原状态。")
    action: StatusActionValue = Field(description=(
        "What changed it: start_use, end_use, start_cleaning, verify_cleaning, reject_cleaning, take_out_of_use, "
        "release, failed_record (a failed calibration or qualification). "
        "变更动作：开始使用、结束使用、开始清洁、清洁复核、复核不通过、转出使用、放行、校准/确认不合格。"))
    reason: str = Field(description="Reason or remarks (may be empty). 原因或备注（可为空）。")
    order: str = Field(max_length=40, description="Production order in use (may be empty). 使用中的生产订单。")
    product: str | None = Field(max_length=40, description="Product in use or last made. 使用中或上一产品编码。")
    reference: str = Field(max_length=60, description=(
        "Cleaning record (C<id>), certificate or document. 关联记录（清洁记录、证书、文件）。"))
    changed_by: str = Field(max_length=150, description="User id, or system. 操作人用户名或 system。")
    signed_by: str | None = Field(max_length=150, description="Signer of a signed step. 签名人用户名。")
    changed_at: str = Field(description=f"When, {_TIME}. 变更时间（UTC）。")


class HoldExpiredPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    hold: Literal["clean", "dirty"] = Field(description=(
        "clean: clean-hold expired, clean again before use; dirty: dirty-hold expired, a major clean is required. "
        "clean：清洁有效期已过，使用前需重新清洁；dirty：待清洁放置时间超限，须大清洁。"))
    status: EquipmentStatusValue = Field(description="Status. 设备状态。")
    since: str = Field(description=f"Cleaned (clean) or dirty since, {_TIME}. 清洁完成或变脏的时间。")
    expired_at: str = Field(description=f"When the hold time ended, {_TIME}. 时限届满时间。")
    limit_hours: StrictInt = Field(ge=1, description="The hold time, hours. 时限（小时）。")


class QualificationRecordedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    qualification_id: StrictInt = Field(description="Record id. 记录号。")
    stage: Literal["IQ", "OQ", "PQ", "RQ"] = Field(description=(
        "IQ, OQ, PQ or RQ (requalification). 安装确认、运行确认、性能确认、再确认。"))
    performed_on: str = Field(pattern=EQ_DATE, description="Date performed. 执行日期。")
    result: ResultValue = Field(description="pass, fail, adjusted. 结果。")
    valid_until: str | None = Field(pattern=EQ_DATE, description="Requalification due. 再确认日期。")
    document_ref: str = Field(max_length=100, description="Protocol / report. 方案/报告编号。")
    recorded_by: str = Field(max_length=150, description="User id of the signer. 记录并签名人。")


class CalibrationPointPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nominal: str = _decimal_field("Nominal value. 标称值。")
    reading: str = _decimal_field("Reading. 示值。")
    tolerance: str = _decimal_field("Allowed deviation (±). 允差（±）。")
    unit: str = Field(max_length=40, description="Unit code. 单位编码。")
    within_tolerance: Literal["yes", "no"] = Field(description="Reading within tolerance. 是否在允差内。")


class CalibrationRecordedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    calibration_id: StrictInt = Field(description="Record id. 记录号。")
    performed_on: str = Field(pattern=EQ_DATE, description="Date calibrated. 校准日期。")
    result: ResultValue = Field(description="pass, fail, adjusted (pass after adjustment). 结果。")
    due_on: str = Field(pattern=EQ_DATE, description="Next calibration due. 下次校准日期。")
    certificate_ref: str = Field(max_length=100, description="Certificate. 证书编号。")
    performed_by: str = Field(max_length=150, description="Who calibrated. 校准单位/人。")
    measurements: list[CalibrationPointPayload] = Field(description="Measured points. 校准点。")
    recorded_by: str = Field(max_length=150, description="User id of the signer. 记录并签名人。")


class CleaningVerifiedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    cleaning_id: StrictInt = Field(description="Cleaning record id. 清洁记录号。")
    clean_type: CleanTypeValue = Field(description="minor or major. 小清洁或大清洁。")
    state: Literal["verified"] = Field(description="Always verified. 已复核。")
    previous_product: str | None = Field(max_length=40, description="Product made before. 上一产品编码。")
    procedure_ref: str = Field(max_length=100, description="Cleaning procedure. 清洁规程。")
    started_at: str = Field(description=f"Started, {_TIME}. 开始时间。")
    started_by: str = Field(max_length=150, description="Who started it. 开始人。")
    finished_at: str = Field(description=f"Finished, {_TIME}. 完成时间。")
    finished_by: str = Field(max_length=150, description="Who finished it. 完成人。")
    verified_at: str = Field(description=f"Verified, {_TIME}. 复核时间。")
    verified_by: str = Field(max_length=150, description="Second person who verified (signed). 复核人（已签名）。")
    clean_hold_until: str | None = Field(description=f"Clean until, {_TIME}. 清洁有效期至。")


def register_messages() -> list[Message]:
    events: list[tuple[str, type[BaseModel], str]] = [
        (REGISTERED, EquipmentRegisterPayload, "Equipment was registered. 设备已登记。"),
        (CHANGED, EquipmentChangedPayload, "Equipment register data changed (with a reason). 设备台账信息已变更。"),
        (RETIRED, EquipmentRetiredPayload, "Equipment was retired. 设备已报废停用。"),
        (STATUS_CHANGED, EquipmentStatusChangedPayload,
         "Equipment status changed (use, cleaning, maintenance, release). 设备状态已变更。"),
        (HOLD_EXPIRED, HoldExpiredPayload, "A clean-hold or dirty-hold time expired. 清洁有效期或待清洁时限已到。"),
        (QUALIFICATION_RECORDED, QualificationRecordedPayload,
         "A qualification was recorded (signed). 设备确认已记录（已签名）。"),
        (CALIBRATION_RECORDED, CalibrationRecordedPayload,
         "A calibration was recorded (signed). 设备校准已记录（已签名）。"),
        (CLEANING_VERIFIED, CleaningVerifiedPayload,
         "A cleaning was verified by a second person (signed). 清洁已由第二人复核（已签名）。"),
    ]
    return [Message(name, "outbound", OUTBOUND_TRANSPORT, event_model(name, payload), summary)
            for name, payload, summary in events]


# --- balances and PLC tag mappings (equipment.balances, equipment.tags) ---------------------------------

class BalanceCheckPointPayload(BaseModel):
    """One test weight of a daily check (equipment.balances._measure)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    weight_id: str = Field(max_length=40, description="Test weight id. 砝码编号。")
    nominal: str = _decimal_field("Nominal value of the test weight. 砝码标称值。")
    reading: str = _decimal_field("Reading of the balance. 天平示值。")
    tolerance: str = _decimal_field("Allowed deviation (±). 允差（±）。")
    deviation: str = _decimal_field("Reading − nominal. 示值减标称值。")
    unit: str = Field(max_length=40, description="Unit code: the balance's weighing unit. 单位编码（天平称量单位）。")
    source: Literal["balance", "manual"] = Field(description=(
        "balance: read over OPC UA; manual: typed in. balance：经 OPC UA 读取；manual：手工录入。"))
    status_code: str = Field(max_length=100, description=(
        "OPC UA status code of the reading (empty when typed). 读数的 OPC UA 状态码（手工录入时为空）。"))
    source_timestamp: str | None = Field(description=(
        f"Source timestamp of the reading, {_TIME} (null when typed). 读数的源时间戳（手工录入时为空）。"))
    passed: StrictBool = Field(alias="pass", description=(
        "Whether |deviation| ≤ tolerance. 偏差是否在允差内。"))


class BalanceCheckRecordedPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Balance (equipment id). 天平设备编号。")
    check_id: StrictInt = Field(description="Daily check record id. 日校记录号。")
    valid_on: str = Field(pattern=EQ_DATE, description=(
        "The site-calendar day the check covers. 日校适用日期（工厂日历日）。"))
    performed_at: str = Field(description=f"When, {_TIME}. 执行时间。")
    performed_by: str = Field(max_length=150, description="User id of who performed it. 执行人用户名。")
    result: Literal["pass", "fail"] = Field(description=(
        "pass: every test weight within tolerance; fail: weighing is blocked. "
        "pass：全部砝码在允差内；fail：禁止称量。"))
    unit: str = Field(max_length=40, description="Weighing unit of the balance. 天平称量单位。")
    points: list[BalanceCheckPointPayload] = Field(description="The test weights. 各砝码的检查结果。")


class TagPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equipment: str = Field(max_length=40, description="Equipment id. 设备编号。")
    name: str = Field(max_length=60, description="Tag name, e.g. compression_force. 点位名称。")
    kind: Literal["process_value", "state", "good_count", "reject_count"] = Field(description=(
        "process_value, state (PackML), good_count or reject_count. 过程值、PackML 状态、合格计数、剔废计数。"))
    node_id: str = Field(max_length=200, description="OPC UA node id. OPC UA 节点标识。")
    unit: str | None = Field(max_length=40, description="Unit code of a process value. 过程值单位编码。")
    low_limit: str | None = _decimal_field("Low limit of a process value. 过程值下限。")
    high_limit: str | None = _decimal_field("High limit of a process value. 过程值上限。")


class TagSavedPayload(TagPayload):
    outcome: Literal["created", "updated"] = Field(description=(
        "created: a new mapping; updated: a mapping changed (with a reason). created 新建；updated 已变更（附原因）。"))


class TagRemovedPayload(TagPayload):
    reason: str = Field(description="Why the mapping was removed. 删除原因。")


def device_messages() -> list[Message]:
    from batchline.equipment.balances import CHECK_RECORDED
    from batchline.equipment.tags import TAG_REMOVED, TAG_SAVED

    events: list[tuple[str, type[BaseModel], str]] = [
        (CHECK_RECORDED, BalanceCheckRecordedPayload,
         "The daily check of a balance was recorded (pass or fail). 天平日校已记录（合格或不合格）。"),
        (TAG_SAVED, TagSavedPayload,
         "An OPC UA tag mapping of equipment was created or changed. 设备的 OPC UA 点位映射已新建或变更。"),
        (TAG_REMOVED, TagRemovedPayload,
         "An OPC UA tag mapping of equipment was removed. 设备的 OPC UA 点位映射已删除。"),
    ]
    return [Message(name, "outbound", OUTBOUND_TRANSPORT, event_model(name, payload), summary)
            for name, payload, summary in events]
