"""A device simulator that is a real OPC UA server (EQ-04, EQ-05): balances modelled with the official
OPC UA Scales companion model and a tablet press with the PackML state machine, so that the demo and
the tests read from a real OPC UA endpoint through the same client code a plant uses.

The server loads the official NodeSets from `settings.BATCHLINE_STANDARDS_DIR` (never copied into
the project) in the order the Scales model needs: DI, Machinery, PackML, Scales (about 2-3 s).

Balances (`balances=[{...}]`, one LaboratoryScaleType object each, node `nsu=urn:batchline:simulator;s=<code>`):
    code            required, e.g. "BAL-01"
    unit            "g" (default), "kg" or "mg": served as EUInformation with the UNECE code
    readability     "0.001": the display resolution d; weights are rounded to it
    max_load        "220": above it the balance reports Overload
    weight, tare    the net weight and tare on the pan at start ("0")
    serial_number   the DI SerialNumber (default: the code)
    settle_seconds  how long a new load stays unstable (1.5)
A new load (`place()`, or an OPC UA client writing `<code>.SimulatedLoad`) wobbles, unstable, for
`settle_seconds`, then settles stable on the exact value.

Tablet presses (`presses=[{...}]`, one PackMLBaseObjectType object each, node `...;s=<code>`):
    code            required, e.g. "TP-01"
    state           the PackML state at start ("Idle")
    auto            True: run a plausible shift by itself (states, counts, process values) — the demo
    rate_per_minute the counting rate of the automatic run (3000)
It serves the nested PackML state machines (BaseStateMachine / MachineState / ExecuteState), the
counters `<code>.GoodCount` and `<code>.RejectCount`, and the process values
`<code>.CompressionForce` (kN), `<code>.TurretSpeed` (rpm) and the PackML `<code>.Status.CurMachSpeed`.

Use `run_balance_simulator(...)` to serve until a stop event is set (the `batchline simulate
balances` command), or `DeviceSimulator(...).start()` for a server in a background thread with the
test hooks (set_weight, place, set_stable, set_tare, set_status, set_state, add_counts,
set_process_value), each of which has taken effect on the server when it returns.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from asyncua import Node, Server, ua
from django.conf import settings

from batchline.equipment.opcua import DI_NS, PACKML_NS, SCALES_NS, eu_information, node_id, status_code

logger = logging.getLogger("batchline.equipment.simulator")

SIM_NS = "urn:batchline:simulator"
DEFAULT_ENDPOINT = "opc.tcp://127.0.0.1:4841/batchline/"
# The order matters: each NodeSet builds on the ones before it.
NODESETS = ("Opc.Ua.Di.NodeSet2.xml", "Opc.Ua.Machinery.NodeSet2.xml", "Opc.Ua.PackML.NodeSet2.xml",
            "Opc.Ua.Scales.NodeSet2.xml")
LABORATORY_SCALE_TYPE = 15  # Scales: LaboratoryScaleType (a SimpleScaleType, a ScaleDeviceType)
PACKML_BASE_OBJECT_TYPE = 6  # PackML: PackMLBaseObjectType
PACKML_STATE_MACHINE_TYPES = (3, 2, 1)  # Base-, Machine-, ExecuteStateMachineType: where the states are
# PackML states by level: a state of the execute machine runs inside Running inside Cleared.
BASE_STATES = {"Aborted", "Aborting", "Clearing"}
MACHINE_STATES = {"Stopped", "Stopping"}
EXECUTE_STATES = {"Idle", "Starting", "Execute", "Completing", "Complete", "Resetting", "Holding", "Held",
                  "Unholding", "Suspending", "Suspended", "Unsuspending"}
PROCESS_VALUES = {"CompressionForce": "kN", "TurretSpeed": "rpm"}
TICK_SECONDS = 0.1


class SimulatorError(RuntimeError):
    pass


def standards_dir() -> Path:
    return Path(getattr(settings, "BATCHLINE_STANDARDS_DIR", ""))


def nodeset_paths() -> list[Path]:
    """The four NodeSet files, in load order; a clear error if the standards folder is absent."""
    folder = standards_dir() / "opcua"
    paths = [folder / name for name in NODESETS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SimulatorError(f"OPC UA NodeSets not found in {folder} ({', '.join(missing)}): set "
                             "BATCHLINE_STANDARDS_DIR to the folder that holds opcua/*.NodeSet2.xml")
    return paths


def balance_node_id(code: str) -> str:
    """The device node of a simulated balance, as Equipment.opcua_node holds it."""
    return f"nsu={SIM_NS};s={code}"


def press_node_ids(code: str) -> dict[str, str]:
    """The nodes of a simulated tablet press, for its tag mapping: name → node id."""
    return {
        "packml_state": f"nsu={SIM_NS};s={code}.BaseStateMachine",
        "good_count": f"nsu={SIM_NS};s={code}.GoodCount",
        "reject_count": f"nsu={SIM_NS};s={code}.RejectCount",
        "compression_force": f"nsu={SIM_NS};s={code}.CompressionForce",
        "turret_speed": f"nsu={SIM_NS};s={code}.TurretSpeed",
        "machine_speed": f"nsu={SIM_NS};s={code}.Status.CurMachSpeed",
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _good(value: Any, variant: ua.VariantType, at: datetime | None = None,
          status: int = ua.StatusCodes.Good) -> ua.DataValue:
    """A value as a device publishes it: with its status code and source timestamp."""
    return _data(ua.Variant(value, variant), status, at)


def _data(variant: ua.Variant | None, status: int, at: datetime | None) -> ua.DataValue:
    return ua.DataValue(variant, StatusCode=status_code(status), SourceTimestamp=cast(Any, at or _now()))


@dataclass
class _Balance:
    code: str
    unit: str
    readability: Decimal
    max_load: Decimal
    serial_number: str
    settle_seconds: float
    net: Decimal
    tare: Decimal
    stable: bool = True
    status: int = ua.StatusCodes.Good
    target: Decimal | None = None
    settle_until: float | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    weight_type: Any = None
    last_load: float | None = None


@dataclass
class _Press:
    code: str
    state: str
    auto: bool
    rate_per_minute: float
    good: int = 0
    reject: int = 0
    values: dict[str, Decimal] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    fraction: float = 0.0
    state_until: float = 0.0


def _balance(spec: dict[str, Any]) -> _Balance:
    code = str(spec["code"])
    unit = str(spec.get("unit", "g"))
    if unit not in ("kg", "g", "mg"):
        raise SimulatorError(f"balance {code}: unit must be kg, g or mg, not {unit!r}")
    readability = Decimal(str(spec.get("readability", "0.001")))
    return _Balance(code=code, unit=unit, readability=readability, max_load=Decimal(str(spec.get("max_load", "220"))),
                    serial_number=str(spec.get("serial_number", code)),
                    settle_seconds=float(spec.get("settle_seconds", 1.5)),
                    net=Decimal(str(spec.get("weight", "0"))).quantize(readability),
                    tare=Decimal(str(spec.get("tare", "0"))).quantize(readability))


def _press(spec: dict[str, Any]) -> _Press:
    state = str(spec.get("state", "Idle"))
    _check_state(state)
    return _Press(code=str(spec["code"]), state=state, auto=bool(spec.get("auto", False)),
                  rate_per_minute=float(spec.get("rate_per_minute", 3000)),
                  values={"CompressionForce": Decimal("0"), "TurretSpeed": Decimal("0")})


def _check_state(state: str) -> None:
    if state not in BASE_STATES | MACHINE_STATES | EXECUTE_STATES:
        raise SimulatorError(f"{state!r} is not a PackML state")


class DeviceSimulator:
    """An OPC UA server with simulated balances and tablet presses (see the module text)."""

    def __init__(self, *, endpoint: str = DEFAULT_ENDPOINT, balances: list[dict[str, Any]] | None = None,
                 presses: list[dict[str, Any]] | None = None, seed: int | None = None) -> None:
        self.endpoint = endpoint
        self.balances = {b.code: b for b in map(_balance, balances or [])}
        self.presses = {p.code: p for p in map(_press, presses or [])}
        self.load_seconds: float | None = None  # how long loading the four NodeSets took
        self._random = random.Random(seed)  # noqa: S311 (simulated noise, not security)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._state_ids: dict[str, ua.NodeId] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: BaseException | None = None

    # --- running -----------------------------------------------------------------------------------

    def serve(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Serve in the calling thread until `stop` is set; `ready` is set once clients can connect
        (also when starting failed: then this raises)."""
        try:
            asyncio.run(self._serve(stop, ready))
        except BaseException as error:
            self._error = error
            if ready is not None:
                ready.set()
            raise

    def start(self, timeout: float = 120.0) -> DeviceSimulator:
        """Serve in a background thread; returns once the server accepts connections."""
        ready = threading.Event()
        self._stop.clear()

        def run() -> None:
            try:
                self.serve(self._stop, ready)
            except BaseException:
                logger.exception("device simulator stopped with an error")

        self._thread = threading.Thread(target=run, name="batchline-device-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise SimulatorError(f"the simulator did not start within {timeout} s")
        if self._error is not None:
            raise SimulatorError(f"the simulator did not start: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _serve(self, stop: threading.Event, ready: threading.Event | None) -> None:
        logging.getLogger("asyncua.common.xmlimporter").setLevel(logging.ERROR)  # notes on the NodeSets' types
        self._loop = asyncio.get_running_loop()
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("Batchline device simulator")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        started = time.monotonic()
        for path in nodeset_paths():
            await server.import_xml(str(path))
        self.load_seconds = time.monotonic() - started
        index = await server.register_namespace(SIM_NS)
        self._server = server
        for balance in self.balances.values():
            await self._add_balance(server, index, balance)
        if self.presses:
            await self._load_state_ids(server)
        for press in self.presses.values():
            await self._add_press(server, index, press)
        async with server:
            if ready is not None:
                ready.set()
            while not stop.is_set():
                await asyncio.sleep(TICK_SECONDS)
                await self._tick()
        self._server = None

    def _call(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a hook on the server's loop and wait until it took effect."""
        if self._loop is None or self._server is None:
            raise SimulatorError("the simulator is not running")
        asyncio.run_coroutine_threadsafe(make(), self._loop).result(10)

    # --- balances -------------------------------------------------------------------------------

    async def _add_balance(self, server: Server, index: int, balance: _Balance) -> None:
        scales = await server.get_namespace_index(SCALES_NS)
        device = await server.nodes.objects.add_object(node_id(balance.code, index), balance.code,
                                                       objecttype=node_id(LABORATORY_SCALE_TYPE, scales),
                                                       instantiate_optional=True)
        weight = await device.get_child(f"{scales}:CurrentWeight")
        di = await server.get_namespace_index(DI_NS)
        balance.nodes = {"device": device, "weight": weight}
        for name, ns in (("WeightStable", scales), ("Overload", scales), ("Underload", scales), ("Gross", scales),
                         ("Net", scales), ("Tare", scales), ("EngineeringUnits", 0)):
            balance.nodes[name] = await weight.get_child(f"{ns}:{name}")
        balance.weight_type = type(await weight.read_value())
        await (await device.get_child(f"{di}:SerialNumber")).write_value(_good(balance.serial_number,
                                                                               ua.VariantType.String))
        await (await device.get_child(f"{di}:Manufacturer")).write_value(
            _good(ua.LocalizedText("Batchline simulator"), ua.VariantType.LocalizedText))
        await balance.nodes["EngineeringUnits"].write_value(
            _good(eu_information(balance.unit), ua.VariantType.ExtensionObject))
        load = await device.add_variable(node_id(f"{balance.code}.SimulatedLoad", index),
                                         ua.QualifiedName("SimulatedLoad", index), float(balance.net + balance.tare),
                                         varianttype=ua.VariantType.Double)
        await load.set_writable()
        balance.nodes["load"] = load
        balance.last_load = float(balance.net + balance.tare)
        await self._publish(balance)

    async def _publish(self, balance: _Balance, net: Decimal | None = None) -> None:
        at = _now()
        shown = balance.net if net is None else net
        nodes = balance.nodes
        if status_code(balance.status).is_bad():
            await nodes["weight"].write_value(_data(None, balance.status, at))
            return
        gross = shown + balance.tare
        value = balance.weight_type(Gross=float(gross), Net=float(shown), Tare=float(balance.tare))
        await nodes["weight"].write_value(_good(value, ua.VariantType.ExtensionObject, at, balance.status))
        for name, amount in (("Gross", gross), ("Net", shown), ("Tare", balance.tare)):
            await nodes[name].write_value(_good(float(amount), ua.VariantType.Double, at, balance.status))
        await nodes["WeightStable"].write_value(_good(balance.stable, ua.VariantType.Boolean, at))
        await nodes["Overload"].write_value(_good(gross > balance.max_load, ua.VariantType.Boolean, at))
        await nodes["Underload"].write_value(_good(gross < 0, ua.VariantType.Boolean, at))

    def _wobble(self, balance: _Balance, now: float) -> Decimal:
        assert balance.target is not None and balance.settle_until is not None
        left = max(0.0, balance.settle_until - now) / max(balance.settle_seconds, 0.001)
        spread = float(max(abs(balance.target) * Decimal("0.02"), balance.readability * 50)) * left
        noise = Decimal(str(self._random.uniform(-spread, spread)))
        return (balance.target + noise).quantize(balance.readability)

    async def _tick_balance(self, balance: _Balance, now: float) -> None:
        load = await balance.nodes["load"].read_value()
        if load != balance.last_load:  # an OPC UA client placed a new load
            balance.last_load = load
            self._place(balance, Decimal(str(load)) - balance.tare, balance.settle_seconds, now)
        if balance.settle_until is None or balance.target is None:
            return
        if now >= balance.settle_until:
            balance.net, balance.stable, balance.settle_until, balance.target = balance.target, True, None, None
            await self._publish(balance)
        else:
            await self._publish(balance, self._wobble(balance, now))

    def _place(self, balance: _Balance, net: Decimal, settle_seconds: float, now: float) -> None:
        balance.target = net.quantize(balance.readability)
        balance.stable = False
        balance.settle_until = now + settle_seconds

    def _balance_named(self, code: str) -> _Balance:
        if code not in self.balances:
            raise SimulatorError(f"no simulated balance {code}")
        return self.balances[code]

    def set_weight(self, code: str, net: Decimal | str, *, stable: bool = True) -> None:
        """Put `net` on the pan at once (stable, or unstable until set_stable)."""
        balance = self._balance_named(code)

        async def apply() -> None:
            balance.net = Decimal(str(net)).quantize(balance.readability)
            balance.stable, balance.settle_until, balance.target = stable, None, None
            await self._publish(balance)

        self._call(apply)

    def place(self, code: str, net: Decimal | str, *, settle_seconds: float | None = None) -> None:
        """Put a new load on the pan: unstable while it settles, then stable on `net`."""
        balance = self._balance_named(code)

        async def apply() -> None:
            self._place(balance, Decimal(str(net)), balance.settle_seconds if settle_seconds is None
                        else settle_seconds, time.monotonic())
            await self._publish(balance, self._wobble(balance, time.monotonic()))

        self._call(apply)

    def set_stable(self, code: str, stable: bool) -> None:
        balance = self._balance_named(code)

        async def apply() -> None:
            balance.stable, balance.settle_until, balance.target = stable, None, None
            await self._publish(balance)

        self._call(apply)

    def set_tare(self, code: str, tare: Decimal | str) -> None:
        balance = self._balance_named(code)

        async def apply() -> None:
            balance.tare = Decimal(str(tare)).quantize(balance.readability)
            await self._publish(balance)

        self._call(apply)

    def set_unit(self, code: str, unit: str) -> None:
        balance = self._balance_named(code)

        async def apply() -> None:
            balance.unit = unit
            await balance.nodes["EngineeringUnits"].write_value(
                _good(eu_information(unit), ua.VariantType.ExtensionObject))

        self._call(apply)

    def set_status(self, code: str, status: str | int) -> None:
        """The status code of the weight value: "Good", "BadSensorFailure", "UncertainLastUsableValue"..."""
        balance = self._balance_named(code)

        async def apply() -> None:
            balance.status = status_code(status).value
            await self._publish(balance)

        self._call(apply)

    # --- tablet presses ---------------------------------------------------------------------------

    async def _load_state_ids(self, server: Server) -> None:
        packml = await server.get_namespace_index(PACKML_NS)
        for type_id in PACKML_STATE_MACHINE_TYPES:
            for child in await server.get_node(node_id(type_id, packml)).get_children():
                name = (await child.read_browse_name()).Name
                if name in BASE_STATES | MACHINE_STATES | EXECUTE_STATES | {"Cleared", "Running"}:
                    self._state_ids[name] = child.nodeid

    async def _add_press(self, server: Server, index: int, press: _Press) -> None:
        packml = await server.get_namespace_index(PACKML_NS)
        device = await server.nodes.objects.add_object(node_id(press.code, index), press.code,
                                                       objecttype=node_id(PACKML_BASE_OBJECT_TYPE, packml))
        base = await device.get_child(f"{packml}:BaseStateMachine")
        machine = await base.get_child(f"{packml}:MachineState")
        execute = await machine.get_child(f"{packml}:ExecuteState")
        press.nodes = {"base": await base.get_child("0:CurrentState"),
                       "machine": await machine.get_child("0:CurrentState"),
                       "execute": await execute.get_child("0:CurrentState"),
                       "speed": await device.get_child([f"{packml}:Status", f"{packml}:CurMachSpeed"])}
        for name in ("GoodCount", "RejectCount"):
            press.nodes[name] = await device.add_variable(node_id(f"{press.code}.{name}", index),
                                                          ua.QualifiedName(name, index), 0,
                                                          varianttype=ua.VariantType.UInt32)
        for name, unit in PROCESS_VALUES.items():
            variable = await device.add_variable(node_id(f"{press.code}.{name}", index),
                                                 ua.QualifiedName(name, index), 0.0, varianttype=ua.VariantType.Double)
            await variable.add_property(node_id(f"{press.code}.{name}.EngineeringUnits", index),
                                        "EngineeringUnits", ua.EUInformation(DisplayName=ua.LocalizedText(unit)))
            press.nodes[name] = variable
        await self._publish_state(press)
        await self._publish_counts(press)
        await self._publish_values(press)

    async def _publish_state(self, press: _Press, at: datetime | None = None) -> None:
        """The nested PackML machines: an execute state runs in Running in Cleared; Stopped and
        Stopping are states of the machine inside Cleared; Aborted, Aborting, Clearing of the base."""
        at = at or _now()
        state = press.state
        base = state if state in BASE_STATES else "Cleared"
        machine = state if state in MACHINE_STATES else ("Running" if state in EXECUTE_STATES else None)
        execute = state if state in EXECUTE_STATES else None
        for level, name in (("base", base), ("machine", machine), ("execute", execute)):
            node = press.nodes[level]
            if name is None:  # OPC 10000-16: the CurrentState of an inactive sub-machine is BadStateNotActive
                await node.write_value(_data(None, ua.StatusCodes.BadStateNotActive, at))
                continue
            await node.write_value(_good(ua.LocalizedText(name, "en"), ua.VariantType.LocalizedText, at))
            with_id = await node.get_child("0:Id")
            if name in self._state_ids:
                await with_id.write_value(_good(self._state_ids[name], ua.VariantType.NodeId, at))

    async def _publish_counts(self, press: _Press, at: datetime | None = None) -> None:
        at = at or _now()
        await press.nodes["GoodCount"].write_value(_good(press.good, ua.VariantType.UInt32, at))
        await press.nodes["RejectCount"].write_value(_good(press.reject, ua.VariantType.UInt32, at))

    async def _publish_values(self, press: _Press, at: datetime | None = None,
                              status: dict[str, int] | None = None) -> None:
        at = at or _now()
        for name in PROCESS_VALUES:
            code = (status or {}).get(name, ua.StatusCodes.Good)
            if status_code(code).is_bad():
                await press.nodes[name].write_value(_data(None, code, at))
            else:
                await press.nodes[name].write_value(_good(float(press.values[name]), ua.VariantType.Double, at, code))
        speed = press.rate_per_minute if press.state == "Execute" else 0.0
        await press.nodes["speed"].write_value(_good(float(speed), ua.VariantType.Float, at))

    def _press_named(self, code: str) -> _Press:
        if code not in self.presses:
            raise SimulatorError(f"no simulated press {code}")
        return self.presses[code]

    def set_state(self, code: str, state: str, *, at: datetime | None = None) -> None:
        """Move the press to a PackML state (source timestamp `at`, default now)."""
        _check_state(state)
        press = self._press_named(code)

        async def apply() -> None:
            press.state = state
            await self._publish_state(press, at)

        self._call(apply)

    def add_counts(self, code: str, *, good: int = 0, reject: int = 0, at: datetime | None = None) -> None:
        press = self._press_named(code)

        async def apply() -> None:
            press.good += good
            press.reject += reject
            await self._publish_counts(press, at)

        self._call(apply)

    def set_process_value(self, code: str, name: str, value: Decimal | str, *, status: str | int = "Good",
                          at: datetime | None = None) -> None:
        """CompressionForce or TurretSpeed, with the status code the PLC gives it."""
        press = self._press_named(code)
        if name not in PROCESS_VALUES:
            raise SimulatorError(f"no process value {name}")

        async def apply() -> None:
            press.values[name] = Decimal(str(value))
            await self._publish_values(press, at, {name: status_code(status).value})

        self._call(apply)

    # --- the automatic run (demo) ------------------------------------------------------------------

    def _next_state(self, press: _Press) -> tuple[str, float]:
        """A plausible production shift: mostly Execute, sometimes held or starved, now and then stopped."""
        pick = self._random.random
        if press.state == "Execute":
            return ("Held", pick() * 60 + 20) if pick() < 0.6 else ("Suspended", pick() * 40 + 10)
        follow = {"Idle": ("Starting", 3.0), "Starting": ("Execute", 0.0), "Held": ("Unholding", 3.0),
                  "Unholding": ("Execute", 0.0), "Suspended": ("Unsuspending", 2.0), "Unsuspending": ("Execute", 0.0),
                  "Stopped": ("Resetting", 5.0), "Resetting": ("Idle", 20.0), "Aborted": ("Clearing", 5.0),
                  "Clearing": ("Stopped", 30.0)}
        state, seconds = follow.get(press.state, ("Idle", 10.0))
        if state == "Execute":
            seconds = pick() * 240 + 120
        return state, seconds

    async def _tick_press(self, press: _Press, now: float) -> None:
        if now >= press.state_until:
            state, seconds = self._next_state(press)
            press.state, press.state_until = state, now + seconds
            await self._publish_state(press)
        if press.state == "Execute":
            press.fraction += press.rate_per_minute * self._random.uniform(0.82, 0.97) * TICK_SECONDS / 60
            made, press.fraction = int(press.fraction), press.fraction % 1
            if made:
                rejects = sum(1 for _ in range(made) if self._random.random() < 0.015)
                press.good += made - rejects
                press.reject += rejects
                await self._publish_counts(press)
            press.values["CompressionForce"] = Decimal(f"{self._random.gauss(12.0, 0.25):.2f}")
            press.values["TurretSpeed"] = Decimal(f"{self._random.gauss(50.0, 0.4):.1f}")
        else:
            press.values["CompressionForce"] = press.values["TurretSpeed"] = Decimal("0")
        await self._publish_values(press)

    async def _tick(self) -> None:
        now = time.monotonic()
        for balance in self.balances.values():
            await self._tick_balance(balance, now)
        for press in self.presses.values():
            if press.auto:
                await self._tick_press(press, now)


def run_balance_simulator(*, endpoint: str = DEFAULT_ENDPOINT, balances: list[dict[str, Any]],
                          stop: threading.Event, ready: threading.Event | None = None,
                          presses: list[dict[str, Any]] | None = None) -> None:
    """Serve simulated balances (and tablet presses) over OPC UA until `stop` is set: the body of
    `batchline simulate balances`. `ready` is set once clients can connect."""
    DeviceSimulator(endpoint=endpoint, balances=balances, presses=presses).serve(stop, ready)


# The demo plant's devices (demo/equipment.py registers them with these codes and serial numbers):
# what `batchline simulate balances` and `batchline demo` serve. The two dispensing balances of
# room R101 cover 0.1 kg to 60 kg between them; the tablet press is in room R104.
DEMO_BALANCES: list[dict[str, Any]] = [
    {"code": "BAL-R101-01", "unit": "kg", "readability": "0.001", "max_load": "60", "weight": "0",
     "serial_number": "HW60-2409-0147"},
    {"code": "BAL-R101-02", "unit": "kg", "readability": "0.0001", "max_load": "6", "weight": "0",
     "serial_number": "HW6-2409-0233"},
]
DEMO_PRESSES: list[dict[str, Any]] = [{"code": "TP-R104-01", "auto": True, "rate_per_minute": 3000}]

