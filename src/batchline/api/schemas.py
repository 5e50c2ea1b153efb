"""The API's request and response shapes: the typed contract partners integrate against.

Request schemas refuse unknown fields (a client cannot slip in `created_at` or `created_by`: the
server assigns times and users, AT-05) and never coerce: whole numbers must be JSON integers,
yes/no must be JSON booleans, and decimal quantities are strings ("12.500"), because floating point
is not exact. Field descriptions give English and Chinese for the material master, which ERP
systems integrate against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StrictInt

from batchline.masterdata.choices import MaterialType, StorageCondition


class In(Schema):
    """Base of every request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- errors and paging ---------------------------------------------------------------------------

class ErrorItem(Schema):
    field: str | None = Field(description="Dotted path of the offending field.")
    message: str
    type: str | None = Field(default=None, description="Pydantic error type, for request validation errors.")


class ErrorOut(Schema):
    code: str = Field(description="Stable machine code, e.g. invalid_input, not_authenticated, wrong_status.")
    message: str = Field(description="Human-readable message in the request's language (Accept-Language).")
    field: str | None = Field(description="The input at fault (dotted path), if one is.")
    errors: list[ErrorItem] | None = Field(default=None, description="Every problem, for invalid input.")


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                          422: ErrorOut}


class PageQuery(Schema):
    page: int = Field(default=1, ge=1, description="Page number, from 1.")
    page_size: int = Field(default=50, ge=1, le=200, description="Items per page (at most 200).")


class PageMeta(Schema):
    count: int = Field(description="Items matching in total.")
    page: int
    page_size: int


# --- signatures --------------------------------------------------------------------------------

class SignatureIn(In):
    """An electronic signature. The user id must be the authenticated person's own; the password is
    checked again for every signature (ES-05, ES-06)."""

    username: str = Field(max_length=64, description="Your own user id (the signer is always the caller).")
    password: str = Field(max_length=256, description="Your password, re-entered to sign.")
    meaning: str = Field(max_length=100, description="Signature meaning, e.g. 'approve'.")
    comment: str = Field(default="", max_length=2000)


class SignatureOut(Schema):
    id: int
    meaning: str
    meaning_en: str
    meaning_zh: str
    signer_username: str
    signer_name: str
    signed_at: datetime
    signed_at_site: str = Field(description="Signing time in the site's time zone, as screens show it.")
    comment: str
    applies: bool | None = Field(default=None, description=(
        "True while the record still holds exactly the signed content; false once it changed; "
        "null when the record itself is not available."))


# --- master data ---------------------------------------------------------------------------------

class MasterItemOut(Schema):
    kind: str = Field(description="Master-data kind slug, e.g. unit, material, location.")
    code: str
    status: str = Field(description="draft, approved or retired.")
    version: int
    fields: dict[str, Any] = Field(description="Content: linked items by code, decimals as strings.")
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    pending_change_id: int | None = Field(description="The change awaiting approval, if any.")


class MasterItemPage(PageMeta):
    items: list[MasterItemOut]


class ApproveIn(In):
    signature: SignatureIn


class ReasonIn(In):
    reason: str = Field(max_length=2000)


class CommentIn(In):
    comment: str = Field(max_length=2000, description="Why: recorded in the audit trail.")


class ChangeProposalIn(In):
    fields: dict[str, Any] = Field(default_factory=dict, description=(
        "The fields to change and their new values (others keep theirs). Empty when retiring."))
    reason: str = Field(max_length=2000, description="Reason for the change (AT-02).")
    change_control_ref: str = Field(max_length=50, description="Change-control reference (MD-01).")
    retire: StrictBool = Field(default=False, description="Propose retiring the item instead of changing it.")


class ChangeOut(Schema):
    id: int
    kind: str
    record_code: str
    change_kind: str = Field(description="update or retire.")
    base_version: int
    proposed: dict[str, Any]
    reason: str
    change_control_ref: str
    status: str = Field(description="pending, approved, rejected or withdrawn.")
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str


class ChangePage(PageMeta):
    items: list[ChangeOut]


class ChangeDecisionOut(Schema):
    change: ChangeOut
    item: MasterItemOut


class MaterialUpsertIn(In):
    """The ERP material master (INTERFACES.md, ERP → MES). The code is in the URL. PUT carries the
    whole material: an optional field left out takes its default."""

    name_zh: str = Field(min_length=1, max_length=200, description="Chinese name. 中文名称。")
    name_en: str = Field(min_length=1, max_length=200, description="English name. 英文名称。")
    material_type: MaterialType = Field(description=(
        "Material type: raw, packaging, intermediate, bulk, finished. "
        "物料类型：原料、包材、中间体、待包装品、成品。"))
    base_unit: str = Field(min_length=1, max_length=40, description=(
        "Base unit code (a Batchline unit code, or the sender's code when source_system is given). "
        "基本计量单位代码。"))
    storage_condition: StorageCondition = Field(default=StorageCondition.AMBIENT, description=(
        "Storage condition: ambient (15–25 °C), cool (2–8 °C), cold (≤ -15 °C), frozen (≤ -60 °C). "
        "储存条件：常温（15–25 °C）、冷藏（2–8 °C）、冷冻（≤ -15 °C）、深冷（≤ -60 °C）。"))
    shelf_life_days: StrictInt | None = Field(default=None, ge=0, description=(
        "Shelf life in days. 有效期（天）。"))
    retest_interval_days: StrictInt | None = Field(default=None, ge=0, description=(
        "Retest interval in days. 复验周期（天）。"))
    incoming_inspection_required: StrictBool = Field(default=True, description=(
        "Incoming inspection required. 是否需要来料检验。"))
    gtin: str = Field(default="", max_length=14, description="GTIN (8, 12, 13 or 14 digits). 商品条码 GTIN。")
    drug_code: str = Field(default="", max_length=20, description=(
        "Drug identification code (7 digits). 药品本位码/药品标识码（7 位）。"))
    description: str = Field(default="", max_length=4000, description="Description. 描述。")
    source_system: str | None = Field(default=None, max_length=40, description=(
        "Sending system (e.g. ERP): its unit code is translated through the code maps. "
        "来源系统：按代码映射转换其单位代码。"))
    reason: str = Field(default="", max_length=2000, description=(
        "Reason for the change; required when the material is approved. 变更原因（已批准物料必填）。"))
    change_control_ref: str = Field(default="", max_length=50, description=(
        "Change-control reference; required when the material is approved. 变更控制编号（已批准物料必填）。"))


class MaterialOut(Schema):
    code: str = Field(description="Material code. 物料编码。")
    name_zh: str
    name_en: str
    material_type: str
    base_unit: str
    storage_condition: str
    shelf_life_days: int | None
    retest_interval_days: int | None
    incoming_inspection_required: bool
    gtin: str
    drug_code: str
    description: str
    status: str = Field(description="draft, approved or retired. 状态：草稿、已批准、已停用。")
    version: int = Field(description="Approved version number. 版本号。")
    approved_at: datetime | None


class MaterialUpsertOut(Schema):
    outcome: Literal["created", "updated", "change_proposed", "change_pending", "unchanged"] = Field(
        description=(
            "created: a new draft; updated: the draft was changed; "
            "change_proposed: the material is approved, a change awaits approval; "
            "change_pending: the same change already awaits approval; unchanged: nothing differs. "
            "created 新建草稿；updated 草稿已更新；change_proposed 已提交变更待批准；"
            "change_pending 相同变更已在等待批准；unchanged 无变化。"))
    material: MaterialOut
    change: ChangeOut | None


# --- audit trail -----------------------------------------------------------------------------------

class AuditQuery(Schema):
    username: str = Field(default="", description="Only entries by this user id.")
    record_type: str = Field(default="", description="e.g. masterdata.material")
    record_id: str = ""
    action: str = Field(default="", description="e.g. create, update, approve, change, void")
    text: str = Field(default="", description="Text in the record label.")
    since: AwareDatetime | None = Field(default=None, description="From this time (inclusive), ISO 8601.")
    until: AwareDatetime | None = Field(default=None, description="Before this time (exclusive), ISO 8601.")


class FieldChangeOut(Schema):
    field: str
    old: Any
    new: Any


class AuditEntryOut(Schema):
    id: int
    occurred_at: datetime = Field(description="Server time, UTC.")
    occurred_at_site: str = Field(description="The same time in the site's time zone.")
    username: str
    user_name: str
    action: str
    record_type: str
    record_id: str
    record_label: str
    sequence: int
    changes: list[FieldChangeOut]
    reason: str
    signature: SignatureOut | None
    correlation_id: str
    entry_hash: str


class AuditEntryPage(PageMeta):
    items: list[AuditEntryOut]


class RecordHistoryOut(Schema):
    record_type: str
    record_id: str
    entries: list[AuditEntryOut] = Field(description="Every entry of the record, oldest first.")
    signatures: list[SignatureOut]


class FindingOut(Schema):
    kind: str = Field(description="modified, inserted, deleted, truncated or seal.")
    record_type: str
    record_id: str
    entry_id: int | None
    sequence: int | None
    detail: str


class VerifyOut(Schema):
    ok: bool
    summary: str
    entries: int
    records: int
    seals: int
    findings: list[FindingOut]


# --- identity ------------------------------------------------------------------------------------

class MeOut(Schema):
    username: str
    full_name: str
    kind: str = Field(description="person or integration.")
    roles: list[str]
    permissions: list[str] = Field(description="What this request may do: roles narrowed by token scopes.")
    token_scopes: list[str] | None = Field(description="The token's scopes; null for a web session.")
    authenticated_by: Literal["token", "session"]
    language: str


class UserOut(Schema):
    username: str
    full_name: str
    email: str
    kind: str
    roles: list[str]
    language: str
    is_active: bool
    locked: bool
    must_change_password: bool
    created_at: datetime
    deactivated_at: datetime | None
    last_login: datetime | None


class UserPage(PageMeta):
    items: list[UserOut]


class UserQuery(Schema):
    search: str = Field(default="", description="Part of the user id or name.")
    active: bool | None = Field(default=None, description="Only active (true) or deactivated (false) ones.")


class UserCreateIn(In):
    username: str = Field(min_length=1, max_length=64, description="User id: unique forever, never reused.")
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=254)
    kind: Literal["person", "integration"] = "person"
    roles: list[str] = Field(default_factory=list)
    language: str = Field(default="zh-hans", max_length=10, description="zh-hans or en.")
    initial_password: str | None = Field(default=None, max_length=256, description=(
        "Required for a person, who must change it at first sign-in. Integration accounts have none."))


class RolesIn(In):
    roles: list[str]
    reason: str = Field(max_length=2000)


class ResetPasswordIn(In):
    temporary_password: str = Field(max_length=256)
    reason: str = Field(max_length=2000)


class TokenCreateIn(In):
    name: str = Field(min_length=1, max_length=100, description="What the token is for, e.g. 'ERP'.")
    scopes: list[str] = Field(description="Permissions (masterdata.view) or app wildcards (masterdata.*).")
    expires_at: AwareDatetime | None = Field(default=None, description="Optional expiry, ISO 8601 with zone.")


class TokenOut(Schema):
    id: int
    username: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str | None = Field(description=(
        "The bearer token. Shown in this response only and stored only hashed; null in a replay."))
