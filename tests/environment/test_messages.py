"""The environment's messages in the registry (INT-01): every event type it emits has a message, and
real events conform to the published models, as a receiver validates them."""

from __future__ import annotations

import json

import pytest

from batchline.api.messages import message, messages
from batchline.core.canonical import canonical_json
from batchline.core.models import OutboxEvent
from batchline.core.outbox import envelope
from batchline.environment import services
from batchline.environment.events import ALARM_EVENTS, EXCURSION
from batchline.environment.ingestion import ingest_reading
from batchline.environment.models import Alarm
from batchline.environment.simulator import SensorModel, SimulatedSensor
from environment.conftest import Plant, signature

pytestmark = pytest.mark.req("INT-01", "EQ-06")


def _conforms(event: OutboxEvent) -> None:
    body = envelope(event)
    message(body["event_type"]).model.model_validate_json(canonical_json(body), strict=True)


def test_every_environment_event_type_has_an_outbound_message() -> None:
    outbound = {m.name for m in messages() if m.direction == "outbound"}
    assert {*ALARM_EVENTS, EXCURSION} <= outbound


def test_real_alarm_and_excursion_events_conform_to_their_messages(plant: Plant) -> None:
    ingest_reading(plant.reading("TT-RB1", "25.5"))  # raised (alert)
    ingest_reading(plant.reading("TT-RB1", "26.5"))  # escalated + excursion
    alarm = Alarm.objects.get()
    services.acknowledge_alarm(actor=plant.lead, alarm_id=alarm.pk, signature=signature(plant.lead))
    ingest_reading(plant.reading("TT-RB1", "21"))  # cleared (and closed)
    events = OutboxEvent.objects.filter(event_type__startswith="environment.")
    assert {e.event_type for e in events} == {*ALARM_EVENTS, EXCURSION}
    for event in events:
        _conforms(event)


def test_a_simulated_mqtt_payload_conforms_to_the_inbound_message() -> None:
    import random
    from datetime import UTC, datetime

    model = SensorModel(SimulatedSensor("TT-R101", "temperature"), "D", random.Random(1))
    payload = json.loads(model.payload(datetime(2026, 11, 22, tzinfo=UTC)))
    message("ems.reading").model.model_validate(payload)
