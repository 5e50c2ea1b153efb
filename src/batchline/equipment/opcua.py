"""The OPC UA client of Batchline (EQ-04): balances per the OPC UA Scales companion model
(OPC 40200) and PLC values by node id, for synchronous Django code.

asyncua is asynchronous; Batchline is not. Every call here runs on one background event loop
thread of the process and waits for it with a deadline, so a caller (a view, a service, the
poller) sees a plain function that returns a value or raises a DomainError. Each call opens its
own session and closes it again: a balance is read a few times a minute, and a fresh session
means that a lost connection is noticed on the very next read instead of being hidden in a cache.

Balance mapping (Opc.Ua.Scales.NodeSet2.xml, namespace http://opcfoundation.org/UA/Scales).
`Equipment.opcua_node` is the node id of the scale device object — an instance of a
ScaleDeviceType subtype, LaboratoryScaleType for a dispensing balance. Below it:

| Batchline          | browse path from the device object            | type                              |
|--------------------|-----------------------------------------------|-----------------------------------|
| weight (net)       | Scales:CurrentWeight → WeightType.Net         | WeightItemType, value WeightType  |
| gross, tare        | Scales:CurrentWeight → WeightType.Gross/.Tare | (same structure: Gross, Net, Tare) |
| unit               | CurrentWeight/EngineeringUnits                | EUInformation (UNECE code)        |
| stable             | CurrentWeight/Scales:WeightStable             | Boolean (optional in the model)   |
| over/underload     | CurrentWeight/Scales:Overload, :Underload     | Boolean                           |
| device serial      | DI:SerialNumber                               | String                            |

Quality: the status code, source timestamp and server timestamp are those of the CurrentWeight
value. A reading is good only if that status is Good, the value carries a source timestamp and
WeightStable (when read) is itself of good quality. A missing WeightStable means "not known to be
stable" (stable=False), never "stable".

Node ids may be written as `ns=6;s=BAL-01` or, independent of the server's namespace order, as
`nsu=urn:batchline:simulator;s=BAL-01` (resolved through the server's namespace array).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import os
import struct
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar, cast

from asyncua import Client, ua
from asyncua.ua.uaerrors import UaError
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from batchline.core.errors import Conflict, DomainError, InvalidInput

logger = logging.getLogger("batchline.equipment.opcua")

SCALES_NS = "http://opcfoundation.org/UA/Scales"
DI_NS = "http://opcfoundation.org/UA/DI/"
PACKML_NS = "http://opcfoundation.org/UA/PackML/"
UNECE_NS = "http://www.opcfoundation.org/UA/units/un/cefact"
# UNECE Recommendation 20 codes of the mass units Batchline knows (masterdata units kg, g, mg).
UNECE_MASS = {"KGM": "kg", "GRM": "g", "MGM": "mg"}
DEFAULT_TIMEOUT_SECONDS = 4.0

T = TypeVar("T")


# --- errors --------------------------------------------------------------------------------------

class DeviceUnreachable(DomainError):
    """The OPC UA server did not answer: refused, timed out, or the session was lost."""

    code = "device_unreachable"
    http_status = 502  # an upstream system (the device) failed, not the request
    default_message = _("The device at {endpoint} cannot be reached: {detail}")


class DeviceNodeUnknown(Conflict):
    code = "device_node_unknown"
    default_message = _("The OPC UA server at {endpoint} has no {model} node {node}.")


class DeviceValueNotGood(Conflict):
    code = "device_value_not_good"
    default_message = _("The device value is not good ({status}): a bad or uncertain value is never used as good.")


class InvalidNodeId(InvalidInput):
    code = "invalid_node_id"
    default_message = _("'{node}' is not an OPC UA node id (e.g. ns=2;s=Press1.State or nsu=urn:plant;i=1001).")


# --- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalanceReading:
    """One reading of a balance. `weight` is the net weight; all amounts are Decimal in `unit`."""

    endpoint: str
    node: str
    weight: Decimal | None
    gross: Decimal | None
    tare: Decimal | None
    unit: str  # Batchline unit code (kg, g, mg) or, for an unknown unit, the device's display name
    stable: bool
    overload: bool
    underload: bool
    status_code: str  # OPC UA status name, e.g. Good, BadSensorFailure, UncertainLastUsableValue
    status_value: int
    good: bool  # status Good, a source timestamp, and a good stability flag
    source_timestamp: datetime | None
    server_timestamp: datetime | None
    serial_number: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "weight": _text(self.weight), "gross": _text(self.gross), "tare": _text(self.tare), "unit": self.unit,
            "stable": self.stable, "overload": self.overload, "underload": self.underload,
            "status_code": self.status_code, "good": self.good,
            "source_timestamp": self.source_timestamp.isoformat() if self.source_timestamp else None,
            "server_timestamp": self.server_timestamp.isoformat() if self.server_timestamp else None,
            "serial_number": self.serial_number,
        }


@dataclass(frozen=True)
class TagValue:
    """One PLC value. Numbers arrive as Decimal (never float), text as str."""

    node_id: str
    value: Decimal | int | bool | str | None
    status_code: str
    good: bool
    source_timestamp: datetime | None
    server_timestamp: datetime | None


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


# --- the background loop -----------------------------------------------------------------------------

class _LoopThread:
    """One daemon thread running an asyncio loop for every OPC UA call of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A forked process (a gunicorn worker) inherits the loop object but not its thread.
            if self._loop is None or self._loop.is_closed() or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                threading.Thread(target=run, name="batchline-opcua-client", daemon=True).start()
                started.wait()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T], *, endpoint: str, timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(_bounded(coroutine, timeout), self.loop())
        try:
            return future.result(timeout + 2)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DeviceUnreachable(endpoint=endpoint, detail=_timed_out(timeout)) from None


async def _bounded(coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
    return await asyncio.wait_for(coroutine, timeout)


def _timed_out(timeout: float) -> str:
    return str(_("no answer within {seconds} s")).format(seconds=f"{timeout:g}")


_RUNNER = _LoopThread()


def timeout_seconds() -> float:
    return float(getattr(settings, "BATCHLINE_OPCUA_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def _call(endpoint: str, coroutine: Coroutine[Any, Any, T], seconds: float) -> T:
    try:
        return _RUNNER.run(coroutine, endpoint=endpoint, timeout=seconds)
    except DomainError:
        raise
    except TimeoutError:
        raise DeviceUnreachable(endpoint=endpoint, detail=_timed_out(seconds)) from None
    except (OSError, ConnectionError, UaError, asyncio.CancelledError) as error:
        raise DeviceUnreachable(endpoint=endpoint, detail=_describe(error)) from None


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return str(_("connection refused"))
    if isinstance(error, ConnectionError | asyncio.CancelledError):
        return str(_("connection lost"))
    text = str(error).strip() or type(error).__name__
    return text[:200]


@asynccontextmanager
async def _session(endpoint: str, timeout: float) -> AsyncIterator[Client]:
    """A connected session (anonymous, security None) that is always closed again."""
    try:
        client = Client(endpoint, timeout=timeout)
        client.session_timeout = 60_000  # ms; the session lives for one read
        client.name = client.description = "Batchline"
        client.application_uri = "urn:batchline:client"
        await client.connect()
    except ValueError as error:
        # The register takes the endpoint as free text; one asyncua cannot parse into host and port
        # ("garbage", "opc.tcp://", a bad port) raises ValueError, which must not become a 500.
        raise DeviceUnreachable(endpoint=endpoint, detail=_describe(error)) from None
    try:
        yield client
    finally:
        with suppress(Exception):
            await client.disconnect()


# --- node ids and status codes ----------------------------------------------------------------------

def node_id(identifier: int | str, namespace: int = 0) -> ua.NodeId:
    """A NodeId (numeric or string identifier) in a namespace given by its index."""
    return ua.NodeId(cast(Any, identifier), ua.Int16(namespace))


def status_code(code: str | int) -> ua.StatusCode:
    """A StatusCode from its name ("BadSensorFailure") or value; an unknown name raises ValueError."""
    value = getattr(ua.StatusCodes, code, None) if isinstance(code, str) else code
    if not isinstance(value, int):
        raise ValueError(f"unknown OPC UA status code {code!r}")
    return ua.StatusCode(ua.UInt32(value))


def parse_node_id(text: str, *, field: str = "node_id") -> ua.NodeId:
    """Parse `ns=..;s=..`, `nsu=..;i=..`, `i=..`; refuse anything else (InvalidNodeId)."""
    try:
        node = ua.NodeId.from_string(text.strip())
    except (ValueError, UaError, IndexError, AttributeError):
        raise InvalidNodeId(field=field, node=text) from None
    return node


def _resolve(node: ua.NodeId, namespaces: list[str], *, endpoint: str, text: str, model: str) -> ua.NodeId:
    uri = getattr(node, "NamespaceUri", None)
    if not uri:
        return ua.NodeId(node.Identifier, node.NamespaceIndex, node.NodeIdType)
    if uri not in namespaces:
        raise DeviceNodeUnknown(endpoint=endpoint, node=text, model=model)
    return ua.NodeId(node.Identifier, ua.Int16(namespaces.index(uri)), node.NodeIdType)


def _path(*steps: tuple[int, str]) -> ua.RelativePath:
    return ua.RelativePath(Elements=[
        ua.RelativePathElement(ReferenceTypeId=node_id(ua.ObjectIds.HierarchicalReferences),
                               IsInverse=cast(Any, False), IncludeSubtypes=cast(Any, True),
                               TargetName=ua.QualifiedName(name, index))
        for index, name in steps])


async def _targets(client: Client, start: ua.NodeId, paths: list[ua.RelativePath]) -> list[ua.NodeId | None]:
    results = await client.translate_browsepaths(start, paths)
    out: list[ua.NodeId | None] = []
    for result in results:
        found = result.StatusCode.is_good() and result.Targets
        out.append(result.Targets[0].TargetId if found else None)
    return [ua.NodeId(t.Identifier, t.NamespaceIndex, t.NodeIdType) if t is not None else None for t in out]


# --- values --------------------------------------------------------------------------------------

def _decimal(value: float | int, readability: Decimal | None = None) -> Decimal | None:
    """A device's float as the decimal it displays: via its shortest text form (str), then
    rounded to the balance's readability d when known. NaN and infinity are no weight."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    amount = Decimal(str(value))
    if readability:
        amount = amount.quantize(readability.normalize(), rounding=ROUND_HALF_EVEN)
    return amount


def _weights(value: Any) -> tuple[Any, Any, Any] | None:
    """(gross, net, tare) from a Scales WeightType value: a decoded structure when this process
    knows the type, else the extension object's binary body (three little-endian Doubles)."""
    if value is None:
        return None
    if all(hasattr(value, name) for name in ("Gross", "Net", "Tare")):
        return value.Gross, value.Net, value.Tare
    body = getattr(value, "Body", None)
    if isinstance(body, bytes | bytearray) and len(body) == 24:
        gross, net, tare = struct.unpack("<ddd", body)
        return gross, net, tare
    return None


def unit_from_eu(info: Any) -> str:
    """EUInformation → a Batchline unit code (kg, g, mg) via the UNECE code; else its display text."""
    if info is None:
        return ""
    unit_id = getattr(info, "UnitId", None)
    if isinstance(unit_id, int) and unit_id > 0:
        code = "".join(chr((unit_id >> shift) & 0xFF) for shift in (16, 8, 0)).lstrip("\x00")
        if code in UNECE_MASS:
            return UNECE_MASS[code]
    display = getattr(info, "DisplayName", None)
    return str(getattr(display, "Text", "") or "").strip()


def eu_information(unit: str) -> ua.EUInformation:
    """The EUInformation a device publishes for a Batchline mass unit (what the simulator serves)."""
    code = {v: k for k, v in UNECE_MASS.items()}[unit]
    unit_id = (ord(code[0]) << 16) | (ord(code[1]) << 8) | ord(code[2])
    names = {"kg": "kilogram", "g": "gram", "mg": "milligram"}
    return ua.EUInformation(NamespaceUri=UNECE_NS, UnitId=unit_id, DisplayName=ua.LocalizedText(unit),
                            Description=ua.LocalizedText(names[unit]))


def _plain(value: Any) -> Decimal | int | bool | str | None:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, int):
        return value
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    return str(value)


def _status(data: ua.DataValue | None) -> ua.StatusCode:
    if data is None:
        return status_code(ua.StatusCodes.BadNoData)
    return data.StatusCode if data.StatusCode is not None else status_code(ua.StatusCodes.Good)


def _value(data: ua.DataValue | None) -> Any:
    if data is None or data.Value is None:
        return None
    return data.Value.Value


def _flag(data: ua.DataValue | None) -> bool:
    return _status(data).is_good() and _value(data) is True


# --- balances ------------------------------------------------------------------------------------

def read_balance(endpoint: str, node: str, *, readability: Decimal | None = None, accept_bad: bool = False,
                 timeout: float | None = None) -> BalanceReading:
    """Read a balance's current weight, unit, stability and tare (Scales model, see the module text).

    Raises DeviceUnreachable (no answer, refused, session lost), DeviceNodeUnknown (no such scale
    object) and — unless `accept_bad`, for a live display that shows the status — DeviceValueNotGood.
    """
    device = parse_node_id(node, field="opcua_node")
    seconds = timeout if timeout is not None else timeout_seconds()
    reading = _call(endpoint, _read_balance(endpoint, node, device, readability, seconds), seconds)
    if not accept_bad and not reading.good:
        raise DeviceValueNotGood(status=reading.status_code)
    return reading


async def _read_balance(endpoint: str, text: str, device: ua.NodeId, readability: Decimal | None,
                        timeout: float) -> BalanceReading:
    async with _session(endpoint, timeout) as client:
        namespaces = await client.get_namespace_array()
        if SCALES_NS not in namespaces:
            raise DeviceNodeUnknown(endpoint=endpoint, node=text, model="Scales")
        scales = namespaces.index(SCALES_NS)
        di = namespaces.index(DI_NS) if DI_NS in namespaces else None
        start = _resolve(device, namespaces, endpoint=endpoint, text=text, model="Scales")
        weight = (scales, "CurrentWeight")
        paths = [_path(weight), _path(weight, (scales, "WeightStable")), _path(weight, (0, "EngineeringUnits")),
                 _path(weight, (scales, "Overload")), _path(weight, (scales, "Underload"))]
        if di is not None:
            paths.append(_path((di, "SerialNumber")))
        targets = await _targets(client, start, paths)
        if targets[0] is None:
            raise DeviceNodeUnknown(endpoint=endpoint, node=text, model="Scales")
        present = [t for t in targets if t is not None]
        values = await client.uaclient.read_attributes(present, ua.AttributeIds.Value)
        by_node = dict(zip((t.to_string() for t in present), values, strict=True))

        def data(index: int) -> ua.DataValue | None:
            target = targets[index] if index < len(targets) else None
            return by_node.get(target.to_string()) if target is not None else None

    weight_data = data(0)
    status = _status(weight_data)
    parts = _weights(_value(weight_data)) if status.is_good() or status.is_uncertain() else None
    gross, net, tare = (_decimal(v, readability) if v is not None else None for v in (parts or (None, None, None)))
    stable_data = data(1)
    serial = _value(data(5))
    source = weight_data.SourceTimestamp if weight_data else None
    good = (status.is_good() and source is not None and net is not None
            and (stable_data is None or _status(stable_data).is_good()))
    status_name = status.name
    if status.is_good() and source is None:
        status_name = "GoodNoSourceTimestamp"  # EQ-04: a value without its source time is not used
    elif status.is_good() and net is None:
        status_name = "BadDecodingError"  # not a WeightType value, or not a finite number
    elif status.is_good() and stable_data is not None and not _status(stable_data).is_good():
        status_name = f"WeightStable:{_status(stable_data).name}"
    return BalanceReading(
        endpoint=endpoint, node=text, weight=net, gross=gross, tare=tare, unit=unit_from_eu(_value(data(2))),
        stable=_flag(stable_data), overload=_flag(data(3)), underload=_flag(data(4)),
        status_code=status_name, status_value=status.value, good=good,
        source_timestamp=source, server_timestamp=weight_data.ServerTimestamp if weight_data else None,
        serial_number=str(serial or "").strip(),
    )


# --- PLC values ----------------------------------------------------------------------------------

# PackML state numbers (ISA-TR88.00.02; the StateNumber of each state in Opc.Ua.PackML.NodeSet2.xml),
# for PLCs that publish the state as a number rather than through the PackML state machines.
PACKML_STATE_NUMBERS = {1: "Clearing", 2: "Stopped", 3: "Starting", 4: "Idle", 5: "Suspended", 6: "Execute",
                        7: "Stopping", 8: "Aborting", 9: "Aborted", 10: "Holding", 11: "Held", 12: "Unholding",
                        13: "Suspending", 14: "Unsuspending", 15: "Resetting", 16: "Completing", 17: "Complete"}


def read_tags(endpoint: str, node_ids: list[str], *, states: tuple[str, ...] | list[str] = (),
              timeout: float | None = None) -> dict[str, TagValue]:
    """Read several PLC nodes in one session → {node id as given: TagValue}. A node the server does
    not know comes back as a TagValue of bad status (BadNodeIdUnknown), never as a silent None.

    Node ids listed in `states` are PackML states (value: the state's name, e.g. "Execute"): either a
    variable holding the name or the state number, or a PackML object — a PackMLBaseObjectType
    instance or its BaseStateMachine — whose nested machines (BaseStateMachine → MachineState →
    ExecuteState) are followed to the innermost active state, with that state's timestamps.
    """
    parsed = {text: parse_node_id(text) for text in dict.fromkeys([*node_ids, *states])}
    if not parsed:
        return {}
    seconds = timeout if timeout is not None else timeout_seconds()
    return _call(endpoint, _read_tags(endpoint, parsed, set(states), seconds), seconds)


async def _read_tags(endpoint: str, parsed: dict[str, ua.NodeId], states: set[str],
                     timeout: float) -> dict[str, TagValue]:
    async with _session(endpoint, timeout) as client:
        namespaces = await client.get_namespace_array()
        resolved: dict[str, ua.NodeId] = {}
        for text, node in parsed.items():
            with suppress(DeviceNodeUnknown):
                resolved[text] = _resolve(node, namespaces, endpoint=endpoint, text=text, model="PLC")
        sources: dict[str, ua.NodeId | list[ua.NodeId | None]] = dict(resolved)
        machines = [text for text in resolved if text in states]
        if machines and PACKML_NS in namespaces:
            classes = await client.uaclient.read_attributes([resolved[t] for t in machines], ua.AttributeIds.NodeClass)
            for text, node_class in zip(machines, classes, strict=True):
                if _value(node_class) == ua.NodeClass.Object:
                    sources[text] = await _state_machine(client, namespaces.index(PACKML_NS), resolved[text])
        wanted = list(dict.fromkeys(n for src in sources.values() for n in (src if isinstance(src, list) else [src])
                                    if n is not None))
        values = await client.uaclient.read_attributes(wanted, ua.AttributeIds.Value) if wanted else []
    read = dict(zip((n.to_string() for n in wanted), values, strict=True))
    out: dict[str, TagValue] = {}
    for text in parsed:
        source = sources.get(text)
        if isinstance(source, list):
            data = _innermost([read.get(n.to_string()) if n is not None else None for n in source])
        else:
            data = read.get(source.to_string()) if source is not None else None
        out[text] = _tag_value(text, data, state=text in states)
    return out



async def _state_machine(client: Client, packml: int, node: ua.NodeId) -> list[ua.NodeId | None]:
    """The CurrentState variables of the nested PackML machines below a PackML object (or its
    BaseStateMachine): [base, machine, execute]; [None, ...] when it has none."""
    current, machine, execute = (0, "CurrentState"), (packml, "MachineState"), (packml, "ExecuteState")
    for prefix in ((), ((packml, "BaseStateMachine"),)):
        targets = await _targets(client, node, [_path(*prefix, current), _path(*prefix, machine, current),
                                                _path(*prefix, machine, execute, current)])
        if targets[0] is not None:
            return targets
    return [None, None, None]


def _state_text(value: Any) -> str:
    if isinstance(value, ua.LocalizedText):
        return (value.Text or "").strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return PACKML_STATE_NUMBERS.get(value, str(value))
    return str(value).strip() if value is not None else ""


def _innermost(levels: list[ua.DataValue | None]) -> ua.DataValue | None:
    """The active state: Cleared hands over to the machine state, Running to the execute state."""
    base, machine, execute = levels
    chosen = base
    if chosen is not None and _state_text(_value(chosen)) == "Cleared" and machine is not None \
            and _state_text(_value(machine)):
        chosen = machine
    if chosen is not None and _state_text(_value(chosen)) == "Running" and execute is not None \
            and _state_text(_value(execute)):
        chosen = execute
    return chosen


def _tag_value(text: str, data: ua.DataValue | None, *, state: bool) -> TagValue:
    status = _status(data) if data is not None else status_code(ua.StatusCodes.BadNodeIdUnknown)
    raw = _value(data)
    value: Decimal | int | bool | str | None = None
    if not status.is_bad():
        value = _state_text(raw) if state else _plain(raw)
    source = data.SourceTimestamp if data is not None else None
    name, good = status.name, status.is_good() and source is not None
    if status.is_good() and source is None:
        name = "GoodNoSourceTimestamp"  # EQ-04: a value without its source time is not used as good
    elif good and (value is None or value == ""):
        good, name = False, "BadNoData"  # NaN, infinity, an empty state
    return TagValue(node_id=text, value=value, status_code=name, good=good, source_timestamp=source,
                    server_timestamp=data.ServerTimestamp if data is not None else None)
