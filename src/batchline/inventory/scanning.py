"""What a scan is (WMS-10): one of our containers, a location, or someone else's GS1 barcode.

Barcode scanners act as keyboards, so a scan arrives as text. `resolve_scan(text)` says what it is:

* **our container label**: the GS1 element string that inventory.labels prints (AI 01 GTIN or AI 240
  material code, AI 10 lot, AI 21 container number, AI 17 expiry, quantity), or the plain container
  code as a person types it from the label (``L26070001-001``);
* **a location**: its plain code (``A-01``, what location labels and signs carry), or a GS1 element
  string with AI 254 (GLN extension component) holding the code, optionally with AI 414 (the site's
  GLN, check digit verified, not otherwise used);
* **a foreign GS1 barcode**: a supplier's label (AI 01 GTIN, 10 lot, 17 expiry, 11 production date,
  310n net weight, 30 / 37 count), parsed with ``biip``; every element's own error field (a bad GTIN
  or GLN check digit) is checked, and an unreadable string is refused naming the problem.

Accepted forms of the same content: the FNC1 / GS separator as ``\\x1d`` (or the visible ``␝``), an
AIM symbology prefix (``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR, ``]C1`` GS1-128, ``]e0`` GS1 DataBar;
``]d1`` / ``]Q1`` mark plain text), the parenthesised human-readable form ``(01)...(10)...`` and a GS1
Digital Link URI. When a keyboard-wedge scanner drops the separator between lot and container number,
the lot field is split at each ``21`` and tried again (our labels put the lot last but one).

`container_from_scan` and `location_from_scan` are what screens and the API call: they return the
record or refuse precisely ("this is a location, not a container"; "unknown container ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

from biip import ParseConfig, ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.symbology import SymbologyIdentifier
from django.utils.translation import gettext_lazy as _

from batchline.core.errors import InvalidInput, NotFound
from batchline.inventory.models import Container
from batchline.masterdata.choices import RecordStatus
from batchline.masterdata.models import Location, Material

# --- the layout of our own container label (inventory.labels writes it, this module reads it) --------
AI_GTIN = "01"  # material GTIN, when the material has one
AI_MATERIAL = "240"  # else the material code (additional product identification)
AI_LOT = "10"
AI_EXPIRY = "17"  # YYMMDD
AI_PRODUCTION = "11"  # YYMMDD (supplier labels)
AI_SERIAL = "21"  # the container number within the lot, three digits at least: 001
AI_NET_KG = "310"  # 310n: net weight in kg with n decimals (6 digits)
AI_COUNT = "30"  # variable count of items
AI_CONTENT_COUNT = "37"  # count of trade items contained (supplier pallet labels)
AI_QUANTITY = "92"  # company-internal: "<decimal>:<unit code>" when neither 310n nor 30 fits
AI_LOCATION_GLN = "414"
AI_LOCATION_CODE = "254"  # GLN extension component: our location code

SEPARATOR = "\x1d"
SEPARATOR_STANDINS = ("\u241d",)  # "␝", what some scanner set-ups send for GS
PARSE_CONFIG = ParseConfig(separator_chars=(SEPARATOR,))

ScanKind = Literal["container", "location", "gs1"]


# --- errors -------------------------------------------------------------------------------------------

class BadBarcode(InvalidInput):
    """The scan is GS1 but broken: a check digit, a date, an AI or its length is wrong."""

    code = "bad_barcode"
    default_message = _("The barcode cannot be read: {problem}")


class ScanNotRecognised(InvalidInput):
    code = "scan_not_recognised"
    default_message = _("'{text}' is neither a container, a location nor a GS1 barcode.")


class AmbiguousScan(InvalidInput):
    code = "ambiguous_scan"
    default_message = _("'{text}' is both a container code and a location code; scan the barcode of the label "
                        "instead.")


class LabelMismatch(InvalidInput):
    code = "label_mismatch"
    default_message = _("The label names material {label_material}, but container {container} holds {material}.")


class UnknownContainer(NotFound):
    code = "unknown_container"
    default_message = _("Unknown container {container}.")


class UnknownLocation(NotFound):
    code = "unknown_location"
    default_message = _("Unknown location {location}.")


class NotAContainer(InvalidInput):
    code = "not_a_container"
    default_message = _("This is {what}, not a container.")


class NotALocation(InvalidInput):
    code = "not_a_location"
    default_message = _("This is {what}, not a location.")


# --- the result ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scan:
    """What was scanned. `container` / `location` are set for those kinds; the GS1 fields for any
    GS1 scan (our label's as printed, a supplier's as found)."""

    kind: ScanKind
    text: str  # the scan as received, separators normalised
    container: Container | None = None
    location: Location | None = None
    symbology: str = ""  # AIM prefix, e.g. "]d2"
    elements: tuple[tuple[str, str], ...] = ()  # (AI, value) in order
    gtin: str = ""  # GTIN-14
    material_code: str = ""  # AI 240
    material: Material | None = None  # the approved material with this GTIN / code, if any
    lot: str = ""  # AI 10 (a supplier's lot on a supplier label)
    serial: str = ""  # AI 21
    expires_on: date | None = None
    manufactured_on: date | None = None
    quantity: Decimal | None = None
    unit: str = ""  # "kg" for 310n; "" for a count (AI 30 / 37): the material's base unit applies
    hri: str = ""  # "(01)...(10)..." of a GS1 scan

    def describe(self) -> str:
        """What was scanned, for messages: "location A-01", "container L26070001-001", a label's content."""
        if self.kind == "container" and self.container is not None:
            return str(_("container {code}").format(code=self.container.code))
        if self.kind == "location" and self.location is not None:
            return str(_("location {code}").format(code=self.location.code))
        return str(_("a GS1 label {hri}").format(hri=self.hri or self.text))


# --- resolving ----------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    value = (text or "").strip().strip("\r\n")
    for standin in SEPARATOR_STANDINS:
        value = value.replace(standin, SEPARATOR)
    return value


def resolve_scan(text: str, *, field: str = "scan") -> Scan:
    """Say what `text` is; refuse (InvalidInput / NotFound with `field`) what is nothing we know."""
    value = normalise(text)
    if not value:
        raise InvalidInput(_("Nothing was scanned."), field=field, code="empty_scan")
    symbology, body = _split_symbology(value)
    gs1_symbology = symbology is not None and symbology.gs1_symbology is not None
    prefix = symbology.value if symbology is not None else ""
    if gs1_symbology or body.startswith("(") or body.lower().startswith(("http://", "https://")):
        return _interpret(value, prefix, _parse_gs1(body, field=field, forced=True), field=field)
    # A code as printed (indexed lookups) before anything else; then, for what may be GS1 (an AI up
    # front or a separator), the GS1 parse; a code typed in another case only after that.
    plain = _plain(body, field=field, lookups=("exact",))
    if plain is None and (SEPARATOR in body or body[:2].isdigit()):
        try:
            return _interpret(value, prefix, _parse_gs1(body, field=field, forced=False), field=field)
        except ScanNotRecognised:
            pass
    if plain is None:
        plain = _plain(body, field=field, lookups=("iexact",))
    if isinstance(plain, Container):
        return Scan(kind="container", text=value, symbology=prefix, container=plain)
    if isinstance(plain, Location):
        return Scan(kind="location", text=value, symbology=prefix, location=plain)
    raise ScanNotRecognised(field=field, text=body)


def container_from_scan(text: str, *, field: str = "container") -> Container:
    """The container a scan or typed code names; refuses a location, a foreign label or an unknown code."""
    try:
        scan = resolve_scan(text, field=field)
    except ScanNotRecognised:
        raise UnknownContainer(field=field, container=normalise(text)) from None
    if scan.kind == "container":
        assert scan.container is not None
        return scan.container
    if scan.kind == "location":
        raise NotAContainer(field=field, what=scan.describe())
    if scan.lot and scan.serial:
        raise UnknownContainer(field=field, container=f"{scan.lot} / {scan.serial}")
    raise NotAContainer(field=field, what=scan.describe())


def location_from_scan(text: str, *, field: str = "location") -> Location:
    """The location a scan or typed code names; refuses a container, a foreign label or an unknown code."""
    try:
        scan = resolve_scan(text, field=field)
    except ScanNotRecognised:
        raise UnknownLocation(field=field, location=normalise(text)) from None
    if scan.kind == "location":
        assert scan.location is not None
        return scan.location
    raise NotALocation(field=field, what=scan.describe())


def _split_symbology(value: str) -> tuple[SymbologyIdentifier | None, str]:
    if not value.startswith("]") or len(value) < 3:
        return None, value
    try:
        symbology = SymbologyIdentifier.extract(value)
    except ParseError:
        return None, value
    return symbology, value[len(symbology):]


def _plain(code: str, *, field: str, lookups: tuple[str, ...]) -> Container | Location | None:
    """A typed or plainly encoded code, looked up as printed ("exact") or ignoring case ("iexact")."""
    for lookup in lookups:
        containers = list(Container.objects.select_related("lot__material__base_unit")
                          .filter(**{f"code__{lookup}": code})[:2])
        locations = list(Location.objects.filter(**{f"code__{lookup}": code})[:2])
        if len(containers) + len(locations) > 1:
            raise AmbiguousScan(field=field, text=code)
        if containers:
            return containers[0]
        if locations:
            return locations[0]
    return None


def _parse_gs1(body: str, *, field: str, forced: bool) -> list[GS1ElementString]:
    try:
        if body.startswith("("):
            message = GS1Message.parse_hri(body, config=PARSE_CONFIG)
            elements = list(message.element_strings)
        elif body.lower().startswith(("http://", "https://")):
            elements = list(GS1DigitalLinkURI.parse(body, config=PARSE_CONFIG).element_strings)
        else:
            elements = list(GS1Message.parse(body, config=PARSE_CONFIG).element_strings)
    except ParseError as error:
        if not forced and not body.startswith("(") and SEPARATOR not in body and not _looks_like_gs1(body):
            raise ScanNotRecognised(field=field, text=body) from None
        raise BadBarcode(field=field, problem=str(error)) from None
    for element in elements:
        problem = element.gtin_error or element.gln_error or element.sscc_error
        if problem:
            raise BadBarcode(field=field, problem=f"({element.ai.ai}) {problem}")
    return elements


def _looks_like_gs1(body: str) -> bool:
    """Digits up front (an AI) and more than a short code: worth reporting biip's reason."""
    return len(body) >= 8 and body[:2].isdigit()


def _interpret(text: str, prefix: str, elements: list[GS1ElementString], *, field: str) -> Scan:
    by_ai: dict[str, GS1ElementString] = {}
    for element in elements:
        by_ai.setdefault(element.ai.ai, element)
    if AI_LOCATION_CODE in by_ai:
        code = by_ai[AI_LOCATION_CODE].value
        location = Location.objects.filter(code=code).first()
        if location is None:
            raise UnknownLocation(field=field, location=code)
        return Scan(kind="location", text=text, location=location, symbology=prefix,
                    elements=tuple((e.ai.ai, e.value) for e in elements), hri=_hri(elements))
    gtin = ""
    if AI_GTIN in by_ai and by_ai[AI_GTIN].gtin is not None:
        gtin = by_ai[AI_GTIN].gtin.as_gtin_14()  # type: ignore[union-attr]
    material_code = by_ai[AI_MATERIAL].value if AI_MATERIAL in by_ai else ""
    lot = by_ai[AI_LOT].value if AI_LOT in by_ai else ""
    serial = by_ai[AI_SERIAL].value if AI_SERIAL in by_ai else ""
    quantity, unit = _quantity(elements)
    scan = Scan(
        kind="gs1", text=text, symbology=prefix, elements=tuple((e.ai.ai, e.value) for e in elements),
        gtin=gtin, material_code=material_code, lot=lot, serial=serial,
        expires_on=by_ai[AI_EXPIRY].date if AI_EXPIRY in by_ai else None,
        manufactured_on=by_ai[AI_PRODUCTION].date if AI_PRODUCTION in by_ai else None,
        quantity=quantity, unit=unit, hri=_hri(elements),
        material=_material(gtin, material_code),
    )
    container = _own_container(scan, field=field)
    if container is not None:
        return replace(scan, kind="container", container=container, lot=container.lot.number,
                       serial=f"{container.serial:03d}", material=container.lot.material)
    return scan


def _own_container(scan: Scan, *, field: str) -> Container | None:
    """Our label: AI 10 is one of our lot numbers and AI 21 a container of it (or, when the scanner lost
    the separator, AI 10 splits at a "21" into both). The label's material must be the lot's."""
    candidates: list[tuple[str, str]] = []
    if scan.lot and scan.serial:
        candidates.append((scan.lot, scan.serial))
    elif scan.lot:
        candidates += [(scan.lot[:i], scan.lot[i + 2:]) for i in range(1, len(scan.lot) - 2)
                       if scan.lot.startswith("21", i) and scan.lot[i + 2:].isdigit()]
    for lot_number, serial in candidates:
        if not serial.isdigit():
            continue
        container = (Container.objects.select_related("lot__material__base_unit")
                     .filter(lot__number=lot_number, serial=int(serial)).first())
        if container is None:
            continue
        material = container.lot.material
        if scan.gtin and _gtin14(material.gtin) != scan.gtin:
            raise LabelMismatch(field=field, label_material=scan.gtin, container=container.code,
                                material=material.code)
        if scan.material_code and scan.material_code != material.code:
            raise LabelMismatch(field=field, label_material=scan.material_code, container=container.code,
                                material=material.code)
        if not scan.gtin and not scan.material_code:
            continue  # a lot and a number alone could be anyone's: not proof of our container
        return container
    return None


_COUNT_AIS = (AI_COUNT, AI_CONTENT_COUNT)
_INTERNAL_QUANTITY = re.compile(r"^(?P<amount>\d+(?:\.\d+)?):(?P<unit>[!%-?A-Z_a-z\x22]+)$")


def _quantity(elements: list[GS1ElementString]) -> tuple[Decimal | None, str]:
    for element in elements:
        ai = element.ai.ai
        if ai.startswith(AI_NET_KG) and len(ai) == 4 and element.decimal is not None:
            return element.decimal, "kg"
        if ai in _COUNT_AIS and element.value.isdigit():
            return Decimal(element.value), ""
        if ai == AI_QUANTITY:
            match = _INTERNAL_QUANTITY.match(element.value)
            if match:
                return Decimal(match["amount"]), match["unit"]
    return None, ""


def _gtin14(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return Gtin.parse(value).as_gtin_14()
    except ParseError:
        return value


def _material(gtin: str, code: str) -> Material | None:
    approved = Material.objects.filter(status=RecordStatus.APPROVED)
    if gtin:
        # A GTIN may be kept as GTIN-14, -13, -12 or -8: the same number with fewer leading zeros.
        forms = {gtin[i:] for i in range(0, 7) if set(gtin[:i]) <= {"0"} and len(gtin) - i in (8, 12, 13, 14)}
        found = approved.filter(gtin__in=forms).select_related("base_unit").first()
        if found is not None:
            return found
    if code:
        return approved.filter(code=code).select_related("base_unit").first()
    return None


def _hri(elements: list[GS1ElementString]) -> str:
    return "".join(element.as_hri() for element in elements)
