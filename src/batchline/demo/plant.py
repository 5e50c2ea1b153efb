"""The demo plant: a small oral-solid-dose (tablet) plant in Suzhou, loaded through the services.

Everything here is written the way a plant would write it: a system administrator opens the
accounts, a data steward creates each master-data item, a QA reviewer approves it with an
electronic signature. Nothing is saved directly, so the demo's audit trail is a real one.

Loading is idempotent: an account, item, number rule or code map that already exists is left
alone, so running `batchline demo` again changes nothing and writes no audit entry.

DEMO ONLY: the demo accounts share one published password (DEMO_PASSWORD). Never load the demo
plant into a database that holds real data. Company names, GTINs, GLNs, drug identification codes
and licence numbers below are invented for the demo.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from batchline.compliance.signatures import SignatureRequest
from batchline.demo import environment as demo_environment
from batchline.demo import equipment as demo_equipment
from batchline.demo import warehouse as demo_warehouse
from batchline.identity import services as identity
from batchline.identity.models import User, UserKind
from batchline.masterdata import codemaps, numbering
from batchline.masterdata import services as masterdata
from batchline.masterdata.models import CodeMap, NumberRule
from batchline.masterdata.registry import kind_of

# Published in the README and printed by `batchline demo`: demo accounts only.
DEMO_PASSWORD = "Suzhou-Demo-2026"
ERP_SYSTEM = "SAP-PRD"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    kind: str = UserKind.PERSON

    @property
    def signs_in(self) -> bool:
        return self.kind == UserKind.PERSON


# One account per role of identity/permissions.toml. The administrator comes first: it opens the others.
ADMINISTRATOR = DemoAccount("admin", "赵刚 Zhao Gang", "system_administrator")
STEWARD = DemoAccount("steward", "黄丽 Huang Li", "data_steward")
QA_REVIEWER = DemoAccount("qa", "林雪 Lin Xue", "qa_reviewer")
ACCOUNTS: tuple[DemoAccount, ...] = (
    ADMINISTRATOR,
    DemoAccount("operator", "张伟 Zhang Wei", "operator"),
    DemoAccount("shiftlead", "刘洋 Liu Yang", "shift_lead"),
    DemoAccount("warehouse", "陈静 Chen Jing", "warehouse"),
    DemoAccount("qc", "杨帆 Yang Fan", "qc_analyst"),
    QA_REVIEWER,
    DemoAccount("qp", "周红 Zhou Hong", "qp"),
    DemoAccount("supervisor", "吴强 Wu Qiang", "supervisor"),
    STEWARD,
    DemoAccount("auditor", "孙悦 Sun Yue", "auditor"),
    DemoAccount("sap-prd", "SAP ERP 生产系统 (SAP-PRD)", "integration", kind=UserKind.INTEGRATION),
)


def with_check_digit(body: str) -> str:
    """A GS1 key (GTIN, GLN) from its body: appends the mod-10 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


# Invented GS1 company prefix for the demo company (690–699 is GS1 China's range).
_GS1_PREFIX = "6975123"


def _gtin(item_reference: str) -> str:
    return with_check_digit(_GS1_PREFIX + item_reference)


def _unit(code: str, zh: str, en: str, dimension: str, factor: str, symbol: str = "") -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "symbol": symbol or code, "dimension": dimension,
            "factor": factor}


# Within a dimension, `factor` converts to the dimension's base unit (kg, L, pcs).
UNITS = [
    _unit("kg", "千克", "kilogram", "mass", "1"),
    _unit("g", "克", "gram", "mass", "0.001"),
    _unit("mg", "毫克", "milligram", "mass", "0.000001"),
    _unit("L", "升", "litre", "volume", "1"),
    _unit("mL", "毫升", "millilitre", "volume", "0.001"),
    _unit("pcs", "个", "piece", "count", "1", symbol="个"),
    _unit("tab", "片", "tablet", "count", "1", symbol="片"),
    _unit("kpcs", "千片", "thousand tablets", "count", "1000", symbol="千片"),
    # Packaging units are counts of packages; what one holds depends on the material, so their
    # content is given by the material-specific conversions below.
    _unit("box", "盒", "box", "package", "1", symbol="盒"),
    _unit("drum", "桶", "drum", "package", "1", symbol="桶"),
    _unit("bag", "袋", "bag", "package", "1", symbol="袋"),
    _unit("roll", "卷", "roll", "package", "1", symbol="卷"),
    _unit("m", "米", "metre", "length", "1"),
]


def _material(code: str, zh: str, en: str, material_type: str, base_unit: str, *, storage: str = "ambient",
              shelf_life: int | None = None, retest: int | None = None, inspect: bool = True, gtin: str = "",
              drug_code: str = "", description: str = "") -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "material_type": material_type,
            "base_unit": base_unit, "storage_condition": storage, "shelf_life_days": shelf_life,
            "retest_interval_days": retest,
            "incoming_inspection_required": inspect, "gtin": gtin, "drug_code": drug_code,
            "description": description}


MATERIALS = [
    # Active pharmaceutical ingredients
    _material("RM-API-0001", "对乙酰氨基酚", "Paracetamol (acetaminophen)", "raw", "kg",
              shelf_life=1825, retest=730, description="ChP / EP grade, fine powder"),
    _material("RM-API-0002", "盐酸二甲双胍", "Metformin hydrochloride", "raw", "kg",
              shelf_life=1825, retest=730),
    _material("RM-API-0003", "布洛芬", "Ibuprofen", "raw", "kg", shelf_life=1825, retest=730),
    _material("RM-API-0004", "氯雷他定", "Loratadine", "raw", "kg", shelf_life=1460, retest=730),
    _material("RM-API-0005", "胰酶", "Pancreatin", "raw", "kg", storage="cool", shelf_life=730, retest=365,
              description="Store at 2–8 °C, protect from moisture"),
    # Excipients
    _material("RM-EXC-0101", "微晶纤维素 PH102", "Microcrystalline cellulose PH102", "raw", "kg",
              shelf_life=1825, retest=1095),
    _material("RM-EXC-0102", "一水乳糖", "Lactose monohydrate", "raw", "kg", shelf_life=1825, retest=1095),
    _material("RM-EXC-0103", "交联羧甲纤维素钠", "Croscarmellose sodium", "raw", "kg",
              shelf_life=1825, retest=1095),
    _material("RM-EXC-0104", "硬脂酸镁", "Magnesium stearate", "raw", "kg", shelf_life=1825, retest=1095),
    _material("RM-EXC-0105", "聚维酮 K30", "Povidone K30", "raw", "kg", shelf_life=1460, retest=730),
    _material("RM-EXC-0106", "羟丙甲纤维素 E5", "Hypromellose E5", "raw", "kg", shelf_life=1825, retest=1095),
    _material("RM-EXC-0107", "欧巴代 II 白色 85F18422", "Opadry II white 85F18422 (film coating)",
              "raw", "kg", shelf_life=730, retest=365),
    _material("RM-EXC-0108", "预胶化淀粉", "Pregelatinised starch", "raw", "kg",
              shelf_life=1825, retest=1095),
    _material("RM-EXC-0109", "胶态二氧化硅", "Colloidal silicon dioxide", "raw", "kg",
              shelf_life=1825, retest=1095),
    _material("RM-EXC-0110", "羧甲淀粉钠", "Sodium starch glycolate", "raw", "kg",
              shelf_life=1825, retest=1095),
    _material("RM-EXC-0111", "无水乙醇", "Ethanol, anhydrous", "raw", "L", shelf_life=1095, retest=730),
    _material("RM-EXC-0112", "纯化水", "Purified water", "raw", "L", inspect=False,
              description="Produced on site; released by the water-system monitoring programme"),
    # Packaging materials
    _material("PM-0201", "PVC/PVDC 药用硬片 250 mm", "PVC/PVDC blister film 250 mm", "packaging", "kg",
              shelf_life=1095),
    _material("PM-0202", "药用铝箔 PTP 250 mm", "Aluminium lidding foil (PTP) 250 mm", "packaging", "kg",
              shelf_life=1095),
    _material("PM-0203", "说明书 对乙酰氨基酚片", "Package leaflet, paracetamol tablets", "packaging", "pcs"),
    _material("PM-0204", "小盒 对乙酰氨基酚片 500mg×20片", "Folding box, paracetamol 500 mg ×20",
              "packaging", "pcs"),
    _material("PM-0205", "说明书 盐酸二甲双胍片", "Package leaflet, metformin tablets", "packaging", "pcs"),
    _material("PM-0206", "小盒 盐酸二甲双胍片 0.5g×48片", "Folding box, metformin 0.5 g ×48",
              "packaging", "pcs"),
    _material("PM-0207", "大箱 五层瓦楞纸箱", "Shipping carton, 5-ply corrugated", "packaging", "pcs"),
    _material("PM-0208", "药用高密度聚乙烯瓶 100 mL", "HDPE bottle 100 mL", "packaging", "pcs",
              shelf_life=1825),
    _material("PM-0209", "瓶签 布洛芬片", "Bottle label, ibuprofen tablets", "packaging", "pcs"),
    _material("PM-0210", "追溯码标签", "Traceability code label", "packaging", "roll"),
    # Intermediates and bulk
    _material("IM-0301", "对乙酰氨基酚颗粒", "Paracetamol granules", "intermediate", "kg",
              shelf_life=30, inspect=False, description="Bulk hold time 30 days"),
    _material("IM-0302", "对乙酰氨基酚素片 500mg", "Paracetamol 500 mg core tablets", "intermediate", "kg",
              shelf_life=30, inspect=False),
    _material("IM-0303", "盐酸二甲双胍颗粒", "Metformin hydrochloride granules", "intermediate", "kg",
              shelf_life=30, inspect=False),
    _material("BK-0401", "对乙酰氨基酚片 500mg (薄膜衣, 待包装)",
              "Paracetamol 500 mg film-coated tablets, bulk", "bulk", "tab", shelf_life=180, inspect=False),
    _material("BK-0402", "盐酸二甲双胍片 0.5g (待包装)", "Metformin HCl 0.5 g tablets, bulk", "bulk", "tab",
              shelf_life=180, inspect=False),
    _material("BK-0403", "布洛芬片 0.2g (待包装)", "Ibuprofen 0.2 g tablets, bulk", "bulk", "tab",
              shelf_life=180, inspect=False),
    # Finished products
    _material("FG-0501", "对乙酰氨基酚片 500mg×20片/盒", "Paracetamol Tablets 500 mg, 20 tablets/box",
              "finished", "box", shelf_life=1095, inspect=False, gtin=_gtin("00015"), drug_code="8601501"),
    _material("FG-0502", "盐酸二甲双胍片 0.5g×48片/盒",
              "Metformin Hydrochloride Tablets 0.5 g, 48 tablets/box", "finished",
              "box", shelf_life=1095, inspect=False, gtin=_gtin("00022"), drug_code="8601502"),
    _material("FG-0503", "布洛芬片 0.2g×100片/瓶", "Ibuprofen Tablets 0.2 g, 100 tablets/bottle", "finished",
              "pcs", shelf_life=1095, inspect=False, gtin=_gtin("00039"), drug_code="8601503"),
]


def _conversion(code: str, zh: str, en: str, material: str | None, from_unit: str, to_unit: str,
                factor: str) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "material": material, "from_unit": from_unit,
            "to_unit": to_unit, "factor": factor}


CONVERSIONS = [
    _conversion("CV-0001", "对乙酰氨基酚 1 桶 = 25 kg", "Paracetamol: 1 drum = 25 kg", "RM-API-0001",
                "drum", "kg", "25"),
    _conversion("CV-0002", "盐酸二甲双胍 1 桶 = 25 kg", "Metformin HCl: 1 drum = 25 kg", "RM-API-0002",
                "drum", "kg", "25"),
    _conversion("CV-0003", "微晶纤维素 1 袋 = 20 kg", "MCC PH102: 1 bag = 20 kg", "RM-EXC-0101",
                "bag", "kg", "20"),
    _conversion("CV-0004", "一水乳糖 1 袋 = 25 kg", "Lactose monohydrate: 1 bag = 25 kg", "RM-EXC-0102",
                "bag", "kg", "25"),
    _conversion("CV-0005", "硬脂酸镁 1 袋 = 10 kg", "Magnesium stearate: 1 bag = 10 kg", "RM-EXC-0104",
                "bag", "kg", "10"),
    _conversion("CV-0006", "欧巴代 1 桶 = 25 kg", "Opadry II: 1 drum = 25 kg", "RM-EXC-0107",
                "drum", "kg", "25"),
    _conversion("CV-0007", "无水乙醇 1 L = 0.789 kg", "Ethanol: 1 L = 0.789 kg", "RM-EXC-0111",
                "L", "kg", "0.789"),
    _conversion("CV-0008", "纯化水 1 L = 1 kg", "Purified water: 1 L = 1 kg", "RM-EXC-0112", "L", "kg", "1"),
    _conversion("CV-0009", "PVC/PVDC 硬片 1 卷 = 28 kg", "PVC/PVDC film: 1 roll = 28 kg", "PM-0201",
                "roll", "kg", "28"),
    _conversion("CV-0010", "铝箔 1 卷 = 12 kg", "Aluminium foil: 1 roll = 12 kg", "PM-0202",
                "roll", "kg", "12"),
    _conversion("CV-0011", "对乙酰氨基酚素片 1 kg = 1724 片", "Paracetamol cores: 1 kg = 1724 tablets",
                "IM-0302", "kg", "tab", "1724"),
    _conversion("CV-0012", "追溯码标签 1 卷 = 2000 m", "Traceability labels: 1 roll = 2000 m", "PM-0210",
                "roll", "m", "2000"),
]

SITES = [
    {"code": "SZ01", "name_zh": "苏州工厂", "name_en": "Suzhou plant", "time_zone": "Asia/Shanghai",
     "address": "江苏省苏州市工业园区示范路 88 号 (demo address)"},
]

AREAS = [
    {"code": "SZ01-PRD", "name_zh": "固体制剂车间", "name_en": "Oral solid dose production", "site": "SZ01"},
    {"code": "SZ01-WH", "name_zh": "仓储区", "name_en": "Warehouse area", "site": "SZ01"},
    {"code": "SZ01-QC", "name_zh": "QC 实验室", "name_en": "QC laboratory", "site": "SZ01"},
]


def _room(code: str, zh: str, en: str, area: str, grade: str) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "area": area, "cleanroom_grade": grade}


# Oral solid dose production runs in Grade D (China GMP: 口服固体制剂 D 级洁净区).
ROOMS = [
    _room("R101", "称量间", "Dispensing room", "SZ01-PRD", "D"),
    _room("R102", "制粒间", "Granulation room", "SZ01-PRD", "D"),
    _room("R103", "总混间", "Blending room", "SZ01-PRD", "D"),
    _room("R104", "压片间 1", "Compression room 1", "SZ01-PRD", "D"),
    _room("R105", "包衣间", "Coating room", "SZ01-PRD", "D"),
    _room("R106", "内包间 (铝塑泡罩)", "Primary packaging (blister)", "SZ01-PRD", "D"),
    _room("R107", "外包间", "Secondary packaging", "SZ01-PRD", "CNC"),
    _room("R108", "中间站", "In-process storage", "SZ01-PRD", "D"),
    _room("R109", "器具清洗间", "Equipment washing room", "SZ01-PRD", "D"),
    _room("W101", "原辅料库", "Raw material store", "SZ01-WH", "CNC"),
    _room("W102", "冷藏库 (2–8 °C)", "Cold room (2–8 °C)", "SZ01-WH", "CNC"),
    _room("W103", "取样间", "Sampling booth", "SZ01-WH", "D"),
    _room("W104", "包材库", "Packaging material store", "SZ01-WH", "U"),
    _room("W105", "成品库", "Finished goods store", "SZ01-WH", "U"),
    _room("Q101", "理化实验室", "Physico-chemical laboratory", "SZ01-QC", "U"),
    _room("Q102", "仪器室 (HPLC)", "Instrument room (HPLC)", "SZ01-QC", "U"),
    _room("Q103", "微生物限度检查室", "Microbial limits laboratory", "SZ01-QC", "C"),
]

WAREHOUSES = [
    {"code": "WH01", "name_zh": "中心仓库", "name_en": "Central warehouse", "site": "SZ01"},
]


def _location(code: str, zh: str, en: str, location_type: str, storage: str = "ambient",
              room: str | None = None) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "warehouse": "WH01", "location_type": location_type,
            "storage_condition": storage, "room": room}


LOCATIONS = [
    _location("WH01-RCV-01", "收货区", "Receiving dock", "receiving", room="W101"),
    _location("WH01-QUA-01", "待验区 (常温)", "Quarantine, ambient", "quarantine", room="W101"),
    _location("WH01-QUA-02", "待验区 (冷藏)", "Quarantine, 2–8 °C", "quarantine", "cool", room="W102"),
    _location("WH01-A-01-01", "常温库 A 排 01 位", "Ambient rack A, bay 01", "storage", room="W101"),
    _location("WH01-A-01-02", "常温库 A 排 02 位", "Ambient rack A, bay 02", "storage", room="W101"),
    _location("WH01-A-01-03", "常温库 A 排 03 位", "Ambient rack A, bay 03", "storage", room="W101"),
    _location("WH01-C-01-01", "冷藏库 01 位", "Cold room, bay 01", "storage", "cool", room="W102"),
    _location("WH01-F-01", "冷冻柜 (≤ -15 °C)", "Freezer (≤ -15 °C)", "storage", "cold", room="W102"),
    _location("WH01-P-01-01", "包材库 01 位", "Packaging store, bay 01", "storage", room="W104"),
    _location("WH01-DSP-01", "称量间", "Dispensary", "dispensary", room="R101"),
    _location("WH01-LS-01", "压片间线边", "Line-side, compression room 1", "line_side", room="R104"),
    _location("WH01-LS-02", "内包间线边", "Line-side, primary packaging", "line_side", room="R106"),
    _location("WH01-STG-01", "备料暂存区", "Staging for production", "staging", room="R108"),
    _location("WH01-FG-01", "成品库 01 位", "Finished goods, bay 01", "storage", room="W105"),
    _location("WH01-SHP-01", "发货区", "Shipping dock", "shipping", room="W105"),
    _location("WH01-REJ-01", "不合格品库", "Rejected goods cage", "rejected", room="W101"),
]


def _supplier(code: str, zh: str, en: str, qualification: str, address: str, contact: str) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "qualification": qualification, "address": address,
            "contact": contact}


SUPPLIERS = [
    _supplier("SUP-0001", "山东鲁弘原料药有限公司", "Shandong Luhong API Co., Ltd.", "approved",
              "山东省潍坊市", "王经理 0536-0000001"),
    _supplier("SUP-0002", "河北恒润化学制药有限公司", "Hebei Hengrun Chemical Pharmaceutical Co., Ltd.",
              "approved", "河北省石家庄市", "李经理 0311-0000002"),
    _supplier("SUP-0003", "上海澄辅药用辅料有限公司", "Shanghai Chengfu Pharmaceutical Excipients Co., Ltd.",
              "approved", "上海市奉贤区", "陈经理 021-00000003"),
    _supplier("SUP-0004", "湖州瑞邦药用辅料有限公司", "Huzhou Ruibang Excipients Co., Ltd.", "approved",
              "浙江省湖州市", "沈经理 0572-0000004"),
    _supplier("SUP-0005", "苏州明澈药用包装材料有限公司", "Suzhou Mingche Pharmaceutical Packaging Co., Ltd.",
              "approved", "江苏省苏州市吴中区", "周经理 0512-00000005"),
    _supplier("SUP-0006", "昆山彩印纸品有限公司", "Kunshan Caiyin Paper Products Co., Ltd.", "approved",
              "江苏省昆山市", "朱经理 0512-00000006"),
    _supplier("SUP-0007", "上海汇涂包衣材料贸易有限公司",
              "Shanghai Huitu Coating Materials Trading Co., Ltd.", "conditional",
              "上海市浦东新区", "顾经理 021-00000007"),
    _supplier("SUP-0008", "广东粤新化工有限公司", "Guangdong Yuexin Chemical Co., Ltd.", "blocked",
              "广东省佛山市", "何经理 0757-00000008"),  # blocked: critical finding at the supplier audit
]


def _customer(code: str, zh: str, en: str, address: str, license_number: str,
              gln_body: str) -> dict[str, Any]:
    return {"code": code, "name_zh": zh, "name_en": en, "address": address, "country": "CN",
            "license_number": license_number, "gln": with_check_digit(_GS1_PREFIX + gln_body)}


# Drug distribution licences (药品经营许可证); numbers invented for the demo.
CUSTOMERS = [
    _customer("CUS-0001", "江苏康达医药有限公司", "Jiangsu Kangda Pharmaceutical Distribution Co., Ltd.",
              "江苏省南京市", "苏AA0250001", "90001"),
    _customer("CUS-0002", "上海沪康医药有限公司", "Shanghai Hukang Pharmaceutical Co., Ltd.",
              "上海市闵行区", "沪AA0210002", "90002"),
    _customer("CUS-0003", "浙江之江医药有限公司", "Zhejiang Zhijiang Pharmaceutical Co., Ltd.",
              "浙江省杭州市", "浙AA5710003", "90003"),
    _customer("CUS-0004", "苏州民心大药房连锁有限公司", "Suzhou Minxin Pharmacy Chain Co., Ltd.",
              "江苏省苏州市姑苏区", "苏DB5120004", "90004"),
]

# Master-data kinds in dependency order: an item is approved only after the items it links to.
MASTER_DATA: tuple[tuple[str, list[dict[str, Any]]], ...] = (
    ("unit", UNITS),
    ("material", MATERIALS),
    ("conversion", CONVERSIONS),
    ("site", SITES),
    ("area", AREAS),
    ("room", ROOMS),
    ("warehouse", WAREHOUSES),
    ("location", LOCATIONS),
    ("supplier", SUPPLIERS),
    ("customer", CUSTOMERS),
)

NUMBER_RULES = [
    {"key": "lot", "prefix": "L", "pattern": "{prefix}{yy}{mm}{seq:04}", "reset": "monthly",
     "description": "Lot number of received material (L + yymm + 4-digit sequence)"},
    {"key": "batch", "prefix": "", "pattern": "{yy}{mm}{seq:03}", "reset": "monthly",
     "description": "Production batch number (yymm + 3-digit sequence)"},
    {"key": "order", "prefix": "MO", "pattern": "{prefix}{yyyy}{seq:05}", "reset": "yearly",
     "description": "Production order number"},
    {"key": "inspection", "prefix": "QC", "pattern": "{prefix}{yyyy}{mm}{dd}-{seq:03}", "reset": "daily",
     "description": "Inspection lot number"},
]

# How the plant's ERP spells units and materials (MD-03).
CODE_MAPS = [
    ("unit", "KGM", "kg"), ("unit", "公斤", "kg"), ("unit", "GRM", "g"), ("unit", "LTR", "L"),
    ("unit", "MLT", "mL"), ("unit", "PCE", "pcs"), ("unit", "EA", "pcs"), ("unit", "BX", "box"),
    ("material", "000000000010000001", "RM-API-0001"),
    ("material", "000000000010000002", "RM-API-0002"),
    ("material", "000000000010000101", "RM-EXC-0101"),
    ("material", "000000000010000104", "RM-EXC-0104"),
    ("material", "000000000030000501", "FG-0501"),
    ("material", "000000000030000502", "FG-0502"),
    ("supplier", "V100001", "SUP-0001"),
    ("customer", "C200001", "CUS-0001"),
]


@dataclass
class LoadResult:
    """What one load created, by kind; empty when the demo plant was already there."""

    created: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created)


def _initial_password() -> str:
    # Random, never shown: each demo account replaces it with the demo password straight away.
    return secrets.token_urlsafe(18) + "aA1!"


def _account(admin: User | None, account: DemoAccount, result: LoadResult) -> User:
    existing = User.objects.filter(username__iexact=account.username).first()
    if existing is not None:
        return existing
    if account.signs_in:
        initial = _initial_password()
        user = identity.create_user(actor=admin, username=account.username, full_name=account.full_name,
                                    roles=[account.role], initial_password=initial)
        # Demo only: the account takes the published demo password through the ordinary
        # "change my own password" action, which also lifts the change-at-first-sign-in flag.
        user = identity.change_own_password(user=user, current_password=initial, new_password=DEMO_PASSWORD)
    else:
        user = identity.create_user(actor=admin, username=account.username, full_name=account.full_name,
                                    roles=[account.role], kind=account.kind)
    result.created["account"] += 1
    return user


def _master_item(slug: str, data: dict[str, Any], steward: User, approver: User, result: LoadResult) -> None:
    kind = kind_of(slug)
    if kind.model._default_manager.filter(code=data["code"]).exists():
        return
    item = masterdata.create_item(actor=steward, kind=kind, data=data)
    masterdata.approve_item(actor=approver, kind=kind, item_id=item.pk,
                            signature=SignatureRequest(password=DEMO_PASSWORD, meaning="approve",
                                                       username=approver.username))
    result.created[slug] += 1


def load() -> LoadResult:
    """Load the demo plant, or complete it; all of it or nothing (one transaction)."""
    result = LoadResult()
    with transaction.atomic():
        admin = _account(None, ADMINISTRATOR, result)  # bootstrap: recorded as "system"
        users = {a.username: _account(admin, a, result) for a in ACCOUNTS if a is not ADMINISTRATOR}
        steward, approver = users[STEWARD.username], users[QA_REVIEWER.username]
        for slug, rows in MASTER_DATA:
            for data in rows:
                _master_item(slug, data, steward, approver, result)
        for rule in NUMBER_RULES:
            if not NumberRule.objects.filter(key=rule["key"]).exists():
                numbering.save_rule(actor=steward, **rule)
                result.created["number rule"] += 1
        for kind, external, internal in CODE_MAPS:
            if not CodeMap.objects.filter(system=ERP_SYSTEM, kind=kind, external_code=external).exists():
                codemaps.save_mapping(actor=steward, system=ERP_SYSTEM, kind=kind, external_code=external,
                                      internal_code=internal)
                result.created["code map"] += 1
        demo_equipment.load(users={**users, "admin": admin}, created=result.created, password=DEMO_PASSWORD)
        demo_environment.load(users={**users, "admin": admin}, created=result.created, password=DEMO_PASSWORD)
        demo_warehouse.load(users={**users, "admin": admin}, created=result.created, password=DEMO_PASSWORD)
    return result
