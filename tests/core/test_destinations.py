"""Destinations: checked configuration, every change audited with old and new values, and the
webhook secret never in the audit trail (INT-03, AT-01)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchline.compliance.models import AuditEntry
from batchline.core.destinations import RECORD_TYPE, create_destination, masked_url, set_active, update_destination
from batchline.core.errors import Conflict, DomainError, InvalidInput, ReasonRequired
from batchline.core.models import Destination

SECRET = "s3cret-key-0123456789"

WEBHOOK: dict[str, Any] = {
    "code": "erp-hook", "name": "ERP webhook", "kind": "webhook", "url": "https://erp.example/hooks/batchline",
    "secret": SECRET, "event_types": ["masterdata.*"], "max_attempts": 5, "timeout_seconds": 10,
}
AMQP: dict[str, Any] = {
    "code": "rabbit", "name": "Plant RabbitMQ", "kind": "amqp", "url": "amqp://bl:brokerpass@mq.plant:5672/",
    "exchange": "batchline.events", "event_types": ["*"],
}
MQTT: dict[str, Any] = {
    "code": "scada", "name": "SCADA", "kind": "mqtt", "url": "mqtt://broker.plant:1883",
    "topic_prefix": "plant1/batchline", "event_types": ["masterdata.material.approved"],
}


def entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(record_type=RECORD_TYPE).order_by("id"))


@pytest.mark.req("INT-03", "AT-01")
@pytest.mark.parametrize("data", [WEBHOOK, AMQP, MQTT], ids=["webhook", "amqp", "mqtt"])
def test_creating_a_destination_is_audited_with_its_values(admin_user: Any, data: dict[str, Any]) -> None:
    destination = create_destination(actor=admin_user, **data)
    [entry] = entries()
    changes = json.loads(entry.changes)
    assert (entry.action, entry.actor_username, entry.record_id) == ("create", "sysadmin", str(destination.pk))
    assert changes["code"] == [None, data["code"]]
    assert changes["event_types"] == [None, data["event_types"]]


@pytest.mark.req("INT-03", "AT-01")
def test_the_webhook_secret_is_never_written_into_the_audit_trail(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    update_destination(actor=admin_user, code="erp-hook", secret="another-secret-0123456789", reason="rotated")
    trail = " ".join(e.changes for e in entries())
    assert SECRET not in trail and "another-secret" not in trail
    assert json.loads(entries()[-1].changes) == {"secret": ["***", "***"]}
    assert Destination.objects.get(code="erp-hook").secret == "another-secret-0123456789"


@pytest.mark.req("INT-03")
def test_a_broker_password_is_masked_in_the_audit_trail(admin_user: Any) -> None:
    create_destination(actor=admin_user, **AMQP)
    assert "brokerpass" not in entries()[0].changes
    assert json.loads(entries()[0].changes)["url"] == [None, "amqp://bl:***@mq.plant:5672/"]


def test_masked_url_leaves_a_url_without_password_alone() -> None:
    assert masked_url("https://erp.example/x") == "https://erp.example/x"


@pytest.mark.req("INT-03", "AT-01")
def test_an_update_records_old_and_new_values_and_the_reason(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    update_destination(actor=admin_user, code="erp-hook", max_attempts="20", event_types="masterdata.* inventory.*",
                       reason="ERP takes inventory too")
    entry = entries()[-1]
    assert json.loads(entry.changes) == {"event_types": [["masterdata.*"], ["masterdata.*", "inventory.*"]],
                                         "max_attempts": [5, 20]}
    assert (entry.action, entry.reason) == ("update", "ERP takes inventory too")


def test_an_empty_secret_on_update_keeps_the_current_one(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    update_destination(actor=admin_user, code="erp-hook", name="ERP", secret="", reason="rename")
    assert Destination.objects.get(code="erp-hook").secret == SECRET


def test_a_masked_url_given_back_keeps_the_broker_password(admin_user: Any) -> None:
    create_destination(actor=admin_user, **AMQP)
    update_destination(actor=admin_user, code="rabbit", url="amqp://bl:***@mq.plant:5672/", name="MQ",
                       reason="rename")
    assert Destination.objects.get(code="rabbit").url == AMQP["url"]


def test_an_update_needs_a_reason(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    with pytest.raises(ReasonRequired):
        update_destination(actor=admin_user, code="erp-hook", name="other", reason=" ")
    assert Destination.objects.get(code="erp-hook").name == "ERP webhook"


def test_an_update_that_changes_nothing_is_refused(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    with pytest.raises(Conflict):
        update_destination(actor=admin_user, code="erp-hook", name="ERP webhook", reason="none")
    assert len(entries()) == 1


@pytest.mark.req("INT-03", "AT-01")
def test_deactivating_and_activating_are_audited_with_the_reason(admin_user: Any) -> None:
    create_destination(actor=admin_user, **MQTT)
    set_active(actor=admin_user, code="scada", active=False, reason="SCADA upgrade")
    set_active(actor=admin_user, code="scada", active=True, reason="upgrade done")
    assert [(e.action, json.loads(e.changes), e.reason) for e in entries()[1:]] == [
        ("deactivate", {"active": [True, False]}, "SCADA upgrade"),
        ("activate", {"active": [False, True]}, "upgrade done"),
    ]


def test_deactivating_an_inactive_destination_is_refused(admin_user: Any) -> None:
    create_destination(actor=admin_user, **MQTT, active=False)
    with pytest.raises(Conflict):
        set_active(actor=admin_user, code="scada", active=False, reason="again")


def test_a_second_destination_with_the_same_code_is_refused(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    with pytest.raises(Conflict) as refused:
        create_destination(actor=admin_user, **{**WEBHOOK, "code": "ERP-HOOK"})
    assert refused.value.field == "code"


INVALID = [
    ({"code": "bad code!"}, "code"),
    ({"code": ""}, "code"),
    ({"name": ""}, "name"),
    ({"kind": "kafka"}, "kind"),
    ({"url": "ftp://erp.example/x"}, "url"),
    ({"url": "https://"}, "url"),
    ({"url": "https://erp.example:port/"}, "url"),
    ({"secret": "short"}, "secret"),
    ({"secret": ""}, "secret"),
    ({"event_types": []}, "event_types"),
    ({"event_types": ["masterdata.*.approved"]}, "event_types"),
    ({"event_types": ["Masterdata Approved"]}, "event_types"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"max_attempts": 101}, "max_attempts"),
    ({"max_attempts": "ten"}, "max_attempts"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"timeout_seconds": 121}, "timeout_seconds"),
    ({"kind": "amqp", "url": "https://erp.example/x", "exchange": "x"}, "url"),
    ({"kind": "amqp", "url": "amqp://mq.plant/", "exchange": ""}, "exchange"),
    ({"kind": "mqtt", "url": "mqtt://broker.plant", "topic_prefix": ""}, "topic_prefix"),
    ({"kind": "mqtt", "url": "mqtt://broker.plant", "topic_prefix": "plant/#"}, "topic_prefix"),
]


@pytest.mark.req("INT-03")
@pytest.mark.parametrize(("change", "field"), INVALID, ids=[f"{f}-{i}" for i, (_c, f) in enumerate(INVALID)])
def test_an_invalid_configuration_is_refused_naming_the_field_and_nothing_is_written(
        admin_user: Any, change: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        create_destination(actor=admin_user, **{**WEBHOOK, **change})
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.field == field
    assert not Destination.objects.exists() and not entries()


@pytest.mark.req("INT-03")
def test_an_invalid_update_is_refused_and_changes_nothing(admin_user: Any) -> None:
    create_destination(actor=admin_user, **WEBHOOK)
    with pytest.raises(InvalidInput) as refused:
        update_destination(actor=admin_user, code="erp-hook", timeout_seconds=500, name="renamed", reason="x")
    assert refused.value.field == "timeout_seconds"
    assert Destination.objects.get(code="erp-hook").name == "ERP webhook" and len(entries()) == 1


def test_fields_of_another_kind_are_not_kept(admin_user: Any) -> None:
    destination = create_destination(actor=admin_user, **{**MQTT, "secret": SECRET, "exchange": "x"})
    assert (destination.secret, destination.exchange) == ("", "")
