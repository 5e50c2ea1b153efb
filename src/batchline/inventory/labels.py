"""Container labels (WMS-10): the GS1 element string, a GS1 DataMatrix, the printable text, ZPL.

The element string of a container label, in this order (fixed-length fields first, so that a
scanner that drops the FNC1 separator still reads the lot and the container number correctly when
the material has a GTIN and is kept in kg)::

    (01) material GTIN-14            when the material has a GTIN, else
    (240) material code              (additional product identification, X..30)
    (17) expiry date YYMMDD          when the lot has one
    (310n) net weight in kg          n decimals, 6 digits: when the base unit is kg and it fits, else
    (30) count                       when the base unit counts items and the quantity is whole, else
    (92) "<decimal>:<unit code>"     company-internal AI, e.g. 92 "12.5:L"
    (10) Batchline lot number        X..20
    (21) container number            001, 002, ... (the lot's container serial, three digits at least)

FNC1 (GS, ``\\x1d`` when scanned) follows every variable-length field that is not the last. A lot
number longer than 20 characters or outside GS1's character set 82 cannot be written: such a label
carries a plain DataMatrix of the container code instead (still resolved by inventory.scanning).

Printing is recorded: `print_labels` counts each container's printed labels and writes an audit
entry per container; printing again (a reprint) needs a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gtin import Gtin
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _
from pystrich.datamatrix import DataMatrixData, DataMatrixEncoder
from pystrich.gs1 import GS1Fixed, GS1Variable

from batchline.compliance.audit import record_change, require_reason
from batchline.core.errors import InvalidInput, NotFound, ensure
from batchline.identity.authz import authorize
from batchline.inventory import scanning
from batchline.inventory.choices import LotStatus
from batchline.inventory.models import Container, StockBalance
from batchline.masterdata.choices import Dimension

CSET_82 = re.compile(r'^[!"%-?A-Z_a-z]+$')  # GS1 AI encodable character set 82
MAX_LOT = 20
MAX_MATERIAL_CODE = 30
MAX_CONTAINERS_PER_PRINT = 999


class LabelNotEncodable(InvalidInput):
    code = "label_not_encodable"
    default_message = _("Container {container} cannot be written as a GS1 element string: {reason}")


@dataclass(frozen=True)
class Element:
    ai: str
    value: str

    @property
    def variable(self) -> bool:
        """Whether a separator must follow it (GS1's table of predefined lengths, as biip knows it)."""
        return bool(GS1ApplicationIdentifier.extract(self.ai).separator_required)

    @property
    def hri(self) -> str:
        return f"({self.ai}){self.value}"


@dataclass(frozen=True)
class Label:
    """Everything one container label shows."""

    container: Container
    elements: tuple[Element, ...]  # empty when the container cannot be written in GS1
    not_encodable: str  # why not, then
    material_code: str
    material_name_zh: str
    material_name_en: str
    gtin: str
    lot: str
    supplier_lot: str
    container_code: str
    serial: int
    containers_in_lot: int
    quantity: Decimal
    unit: str
    manufactured_on: date | None
    expires_on: date | None
    retest_on: date | None
    status: str
    labels_printed: int

    @property
    def element_string(self) -> str:
        return element_string(self.elements)

    @property
    def hri(self) -> str:
        return "".join(element.hri for element in self.elements)

    @property
    def quantity_text(self) -> str:
        return decimal_text(self.quantity)

    @property
    def status_label(self) -> str:
        return str(LotStatus(self.status).label)

    @property
    def quarantine(self) -> bool:
        return self.status == LotStatus.QUARANTINE


def decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def element_string(elements: tuple[Element, ...] | list[Element]) -> str:
    """The data of the barcode without the leading FNC1: separators after variable fields but the last."""
    parts: list[str] = []
    for index, element in enumerate(elements):
        parts.append(element.ai + element.value)
        if element.variable and index < len(elements) - 1:
            parts.append(scanning.SEPARATOR)
    return "".join(parts)


def container_quantity(container: Container) -> Decimal:
    total = StockBalance.objects.filter(container=container).aggregate(total=Sum("on_hand"))["total"]
    return total if total is not None else Decimal(0)


def elements_for(container: Container, *, quantity: Decimal | None = None) -> tuple[Element, ...]:
    """The container's GS1 element strings in label order; LabelNotEncodable when that is impossible."""
    lot = container.lot
    material = lot.material
    if quantity is None:
        quantity = container_quantity(container)

    def refuse(reason: Any) -> LabelNotEncodable:
        return LabelNotEncodable(field="container", container=container.code, reason=reason)

    out: list[Element] = []
    if material.gtin:
        try:
            out.append(Element(scanning.AI_GTIN, Gtin.parse(material.gtin).as_gtin_14()))
        except ParseError as error:
            raise refuse(_("the material's GTIN {gtin} is not valid ({problem}).").format(
                gtin=material.gtin, problem=error)) from None
    else:
        ensure(len(material.code) <= MAX_MATERIAL_CODE and CSET_82.match(material.code),
               refuse(_("the material code {code} is longer than {max} characters or has characters GS1 cannot "
                        "carry.").format(code=material.code, max=MAX_MATERIAL_CODE)))
        out.append(Element(scanning.AI_MATERIAL, material.code))
    if lot.expires_on is not None:
        out.append(Element(scanning.AI_EXPIRY, lot.expires_on.strftime("%y%m%d")))
    out.append(_quantity_element(quantity, material.base_unit))
    ensure(len(lot.number) <= MAX_LOT and CSET_82.match(lot.number),
           refuse(_("the lot number {lot} is longer than {max} characters or has characters GS1 cannot carry.")
                  .format(lot=lot.number, max=MAX_LOT)))
    out.append(Element(scanning.AI_LOT, lot.number))
    out.append(Element(scanning.AI_SERIAL, f"{container.serial:03d}"))
    fixed = [e for e in out if not e.variable]
    variable = [e for e in out if e.variable]
    return tuple(fixed + variable)


def _quantity_element(quantity: Decimal, unit: Any) -> Element:
    amount = quantity.normalize()
    decimals = max(0, -int(amount.as_tuple().exponent))
    if unit.code == "kg" and decimals <= 5:
        scaled = int(amount.scaleb(decimals))
        if 0 <= scaled < 10**6:
            return Element(f"{scanning.AI_NET_KG}{decimals}", f"{scaled:06d}")
    if unit.dimension == Dimension.COUNT and decimals == 0 and 0 <= amount < 10**8:
        return Element(scanning.AI_COUNT, str(int(amount)))
    text = f"{decimal_text(quantity)}:{unit.code}"
    if CSET_82.match(text) and len(text) <= 90:
        return Element(scanning.AI_QUANTITY, text)
    return Element(scanning.AI_QUANTITY, decimal_text(quantity))


def label_for(container: Container) -> Label:
    container = (Container.objects.select_related("lot__material__base_unit", "lot__supplier")
                 .get(pk=container.pk))
    lot, material = container.lot, container.lot.material
    quantity = container_quantity(container)
    try:
        elements, problem = elements_for(container, quantity=quantity), ""
    except LabelNotEncodable as error:
        elements, problem = (), error.render()
    return Label(
        container=container, elements=elements, not_encodable=problem, material_code=material.code,
        material_name_zh=material.name_zh, material_name_en=material.name_en, gtin=material.gtin, lot=lot.number,
        supplier_lot=lot.supplier_lot, container_code=container.code, serial=container.serial,
        containers_in_lot=lot.containers.count(), quantity=quantity, unit=material.base_unit.code,
        manufactured_on=lot.manufactured_on, expires_on=lot.expires_on, retest_on=lot.retest_on, status=lot.status,
        labels_printed=container.labels_printed)


# --- rendering -----------------------------------------------------------------------------------------

def symbol(label: Label) -> DataMatrixEncoder:
    """A GS1 DataMatrix of the element string (FNC1 first, FNC1 separators), or, for a container that
    cannot be written in GS1, a plain DataMatrix of its code."""
    if label.elements:
        fields = [GS1Variable(e.ai, e.value) if e.variable else GS1Fixed(e.ai, e.value) for e in label.elements]
        return DataMatrixEncoder(DataMatrixData.gs1(*fields))
    return DataMatrixEncoder(DataMatrixData(label.container_code, auto_encoding=True))


def symbol_svg(label: Label) -> str:
    """The DataMatrix as inline SVG (sized by its container through CSS)."""
    svg = symbol(label).get_svg(cellsize=1)
    return re.sub(r'<svg ([^>]*?)width="\d+" height="\d+"', r'<svg \1class="datamatrix" role="img"', svg, count=1)


def _zpl_text(value: object) -> str:
    # ^ and ~ start ZPL commands; Chinese needs a printer font, so the ZPL label prints Latin text only.
    text = str(value).replace("^", " ").replace("~", " ")
    return text.encode("ascii", "replace").decode("ascii")


def zpl(label: Label) -> str:
    """ZPL II for a 100 × 70 mm label at 203 dpi (800 × 560 dots), GS1 DataMatrix with FNC1 (`_1`)."""
    if label.elements:
        data = "_1" + label.element_string.replace(scanning.SEPARATOR, "_1")
    else:
        data = _zpl_text(label.container_code)
    lines = [
        "^XA", "^CI28", "^PW800", "^LL560", "^LH0,0",
        f"^FO24,24^A0N,34,34^FD{_zpl_text(label.material_code)}^FS",
        f"^FO24,64^A0N,26,26^FB520,2,0,L^FD{_zpl_text(label.material_name_en)}^FS",
        f"^FO24,130^A0N,30,30^FDLOT {_zpl_text(label.lot)}^FS",
        f"^FO24,168^A0N,24,24^FDSUPPLIER LOT {_zpl_text(label.supplier_lot)}^FS",
        f"^FO24,202^A0N,30,30^FDCONTAINER {label.serial} / {label.containers_in_lot}^FS",
        f"^FO24,240^A0N,30,30^FDQTY {_zpl_text(label.quantity_text)} {_zpl_text(label.unit)}^FS",
        f"^FO24,278^A0N,30,30^FDEXP {label.expires_on.isoformat() if label.expires_on else '-'}^FS",
        f"^FO24,316^A0N,24,24^FD{_zpl_text(label.container_code)}^FS",
        f"^FO560,24^BXN,8,200,,,,_^FD{data}^FS",
        f"^FO24,380^GB752,110,4^FS^FO40,400^A0N,80,80^FD{_zpl_text(label.status.upper())}^FS",
        f"^FO24,510^A0N,20,20^FD{_zpl_text(label.hri)}^FS",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"


# --- recording a print ------------------------------------------------------------------------------

def print_labels(*, actor: Any, container_ids: list[int], reason: str = "") -> list[Container]:
    """Record that the labels of these containers were printed (one more each). A container whose
    label was printed before is a reprint: a reason is required, and the audit entry keeps it."""
    authorize(actor, "inventory.receive")
    ids = sorted({int(pk) for pk in container_ids})
    ensure(ids, InvalidInput(_("Choose at least one container."), field="containers"))
    ensure(len(ids) <= MAX_CONTAINERS_PER_PRINT,
           InvalidInput(_("At most {max} labels can be printed at once."), field="containers",
                        max=MAX_CONTAINERS_PER_PRINT))
    with transaction.atomic():
        containers = list(Container.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        ensure(len(containers) == len(ids), NotFound(_("There is no such container."), field="containers"))
        reprint = any(container.labels_printed for container in containers)
        if reprint:
            reason = require_reason(reason)
        for container in containers:
            before = container.labels_printed
            container.labels_printed = before + 1
            record_change(actor, container, action="reprint_label" if before else "print_label",
                          changes={"labels_printed": [before, container.labels_printed]},
                          reason=(reason or "").strip())
        Container.objects.bulk_update(containers, ["labels_printed"])
    return containers
