"""In-process domain events: required events cannot go unhandled (AT-04)."""

from __future__ import annotations

import pytest

from batchline.core import events
from batchline.core.events import DomainEvent, declare_required, publish, subscribe


@pytest.fixture
def isolated_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_handlers", events.defaultdict(list))
    monkeypatch.setattr(events, "_required", set())


@pytest.mark.req("AT-04")
def test_required_event_without_a_handler_refuses_to_publish(isolated_events: None) -> None:
    declare_required("test.required")
    with pytest.raises(RuntimeError, match="no handler"):
        publish(DomainEvent("test.required"))


def test_optional_event_without_a_handler_is_dropped(isolated_events: None) -> None:
    publish(DomainEvent("test.optional"))


def test_handler_receives_the_published_event(isolated_events: None) -> None:
    seen: list[DomainEvent] = []
    subscribe("test.thing")(seen.append)
    publish(DomainEvent("test.thing", {"n": 1}))
    assert seen == [DomainEvent("test.thing", {"n": 1})]


def test_subscribing_the_same_handler_twice_calls_it_once(isolated_events: None) -> None:
    seen: list[DomainEvent] = []
    subscribe("test.thing")(seen.append)
    subscribe("test.thing")(seen.append)
    publish(DomainEvent("test.thing"))
    assert len(seen) == 1
