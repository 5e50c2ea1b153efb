"""The audit trail over the API: filters, CSV export, a record's history and signatures, verification
(AT-06, AT-08, AT-09, ES-03)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from api.helpers import ApiClient
from batchline.compliance.models import AuditEntry
from batchline.compliance.selectors import CSV_HEADER
from batchline.core import clock
from batchline.masterdata import services
from batchline.masterdata.registry import kind_of
from conftest import sig

UNIT = kind_of("unit")


@pytest.fixture
def auditor_api(session_for: Callable[..., ApiClient], make_user: Callable[..., Any]) -> ApiClient:
    return session_for(make_user("auditor", username="auditor"))


@pytest.fixture
def history(steward: Any, approver: Any, kg: Any) -> Any:
    """kg approved (v1), then changed to v2 by an approved change request."""
    change = services.propose_change(
        actor=steward,
        kind=UNIT,
        item_id=kg.pk,
        data={"name_en": "Kilogram"},
        reason="capitalised",
        change_control_ref="CC-7",
    )
    return services.approve_change(actor=approver, change_id=change.pk, signature=sig(approver))


@pytest.mark.req("AT-09")
def test_entries_are_filtered_by_user(auditor_api: ApiClient, history: Any) -> None:
    items = auditor_api.get("/audit/entries", username="qareviewer").json()["items"]
    assert items
    assert {e["username"] for e in items} == {"qareviewer"}


@pytest.mark.req("AT-09")
def test_entries_are_filtered_by_record_and_action(auditor_api: ApiClient, history: Any) -> None:
    body = auditor_api.get(
        "/audit/entries", record_type="masterdata.unit", record_id=str(history.pk), action="change"
    ).json()
    assert body["count"] == 1
    entry = body["items"][0]
    assert entry["reason"] == "capitalised"
    assert {"field": "name_en", "old": "kilogram", "new": "Kilogram"} in entry["changes"]
    assert entry["signature"]["signer_username"] == "qareviewer"


@pytest.mark.req("AT-09")
def test_entries_are_filtered_by_time(auditor_api: ApiClient, history: Any) -> None:
    later = (clock.now() + timedelta(minutes=1)).isoformat()
    assert auditor_api.get("/audit/entries", since=later).json()["count"] == 0
    assert auditor_api.get("/audit/entries", until=later).json()["count"] == AuditEntry.objects.count()


def test_a_time_filter_without_a_zone_is_refused(auditor_api: ApiClient, db: None) -> None:
    response = auditor_api.get("/audit/entries", since="2026-01-01T00:00:00")
    assert (response.status_code, response.json()["field"]) == (422, "since")


@pytest.mark.req("AT-09")
def test_the_audit_trail_is_exported_as_csv(auditor_api: ApiClient, history: Any) -> None:
    response = auditor_api.get("/audit/entries.csv", record_type="masterdata.unit")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == CSV_HEADER
    changed = [r for r in rows[1:] if r[5] == "change" and r[9] == "name_en"]
    assert len(changed) == 1
    assert (changed[0][10], changed[0][11], changed[0][12]) == ("kilogram", "Kilogram", "capitalised")
    assert {r[6] for r in rows[1:]} == {"masterdata.unit"}


@pytest.mark.req("AT-09", "AC-02")
def test_export_needs_the_export_permission(
    session_for: Callable[..., ApiClient], make_user: Callable[..., Any]
) -> None:
    supervisor = session_for(make_user("supervisor"))  # may view the audit trail, not export it
    assert supervisor.get("/audit/entries").status_code == 200
    response = supervisor.get("/audit/entries.csv")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.req("AT-06", "ES-03")
def test_a_record_history_shows_every_version_and_which_signature_still_applies(
    auditor_api: ApiClient, history: Any
) -> None:
    body = auditor_api.get(f"/audit/records/masterdata.unit/{history.pk}").json()
    assert [e["action"] for e in body["entries"]] == ["create", "approve", "change"]
    assert [e["sequence"] for e in body["entries"]] == [1, 2, 3]
    first, second = body["signatures"]
    assert first["applies"] is False  # v1 was signed; the content changed since
    assert second["applies"] is True
    assert first["signer_name"] == "李华 Li Hua"
    assert first["signed_at_site"].endswith("(UTC+08:00)")


def test_an_unknown_record_history_is_not_found(auditor_api: ApiClient, db: None) -> None:
    response = auditor_api.get("/audit/records/masterdata.unit/999")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.req("AT-08")
def test_verification_reports_an_intact_trail(auditor_api: ApiClient, history: Any) -> None:
    body = auditor_api.post("/audit/verify").json()
    assert body["ok"] is True
    assert body["entries"] == AuditEntry.objects.count()
    assert body["summary"].startswith("OK")
    assert body["findings"] == []


@pytest.mark.req("AC-02")
def test_verification_needs_the_verify_permission(
    session_for: Callable[..., ApiClient], make_user: Callable[..., Any]
) -> None:
    response = session_for(make_user("qp")).post("/audit/verify")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
