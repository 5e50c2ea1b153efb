"""Audit-trail screens: filter, CSV export, one record's history with signatures, integrity check (AT-09)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry
from batchline.core import clock
from batchline.masterdata import services
from batchline.masterdata.registry import kind_of
from conftest import sig

UNIT = kind_of("unit")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown_entries(response: Any) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-entry="(\d+)"', response.content.decode())]


@pytest.fixture
def auditor(make_user: Callable[..., Any]) -> Any:
    return make_user("auditor", username="auditor")


@pytest.fixture
def changed_kg(steward: Any, approver: Any, kg: Any) -> Any:
    """kg created, approved, renamed by an approved change: entries by two people, old and new values."""
    change = services.propose_change(actor=steward, kind=UNIT, item_id=kg.pk, data={"name_en": "kilogramme"},
                                     reason="House style", change_control_ref="CC-2026-021")
    return services.approve_change(actor=approver, change_id=change.pk, signature=sig(approver))


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


# --- filters ---------------------------------------------------------------------------------------

@pytest.mark.req("AT-09")
def test_the_trail_filters_by_user(auditor: Any, changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_trail"), {"user": "qareviewer"})

    expected = AuditEntry.objects.filter(actor_username="qareviewer").order_by("-occurred_at", "-id")
    assert shown_entries(response) == [e.pk for e in expected]
    assert expected.exists() and AuditEntry.objects.exclude(actor_username="qareviewer").exists()


@pytest.mark.req("AT-09")
def test_the_trail_filters_by_record(auditor: Any, changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_trail"),
                                       {"record_type": "masterdata.unit", "record_id": str(changed_kg.pk)})

    expected = AuditEntry.objects.filter(record_type="masterdata.unit", record_id=str(changed_kg.pk))
    assert sorted(shown_entries(response)) == sorted(e.pk for e in expected)
    assert {e.action for e in expected} == {"create", "approve", "change"}


@pytest.mark.req("AT-09")
def test_the_trail_filters_by_action(auditor: Any, changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_trail"), {"action": "change"})

    [entry] = AuditEntry.objects.filter(action="change")
    assert shown_entries(response) == [entry.pk]


@pytest.mark.req("AT-09")
def test_the_trail_filters_by_days_of_the_site_time_zone(auditor: Any, steward: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # 15:30 UTC is 23:30 on 1 March in Shanghai; 16:30 UTC is 00:30 on 2 March there.
    at(datetime(2026, 3, 1, 15, 30, tzinfo=UTC), monkeypatch)
    late = services.create_item(actor=steward, kind=UNIT, data={
        "code": "g", "name_zh": "克", "name_en": "gram", "dimension": "mass", "factor": "0.001"})
    at(datetime(2026, 3, 1, 16, 30, tzinfo=UTC), monkeypatch)
    next_day = services.create_item(actor=steward, kind=UNIT, data={
        "code": "mg", "name_zh": "毫克", "name_en": "milligram", "dimension": "mass", "factor": "0.000001"})
    monkeypatch.undo()
    trail = client_for(auditor)
    first = AuditEntry.objects.get(record_id=str(late.pk), record_type="masterdata.unit")
    second = AuditEntry.objects.get(record_id=str(next_day.pk), record_type="masterdata.unit")

    def shown(**days: str) -> list[int]:
        return shown_entries(trail.get(reverse("web:audit_trail"), days))

    assert shown(until="2026-03-01") == [first.pk]
    assert shown(since="2026-03-02", until="2026-03-02") == [second.pk]
    assert shown(since="2026-03-01", until="2026-03-01") == [first.pk]


def test_a_date_that_is_not_a_date_is_refused_next_to_the_filter(auditor: Any, changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_trail"), {"since": "yesterday"})

    assert response.status_code == 422
    assert 'data-field="since"' in response.content.decode()
    assert shown_entries(response) == []


@pytest.mark.req("AT-09")
def test_the_trail_shows_old_and_new_values_reason_and_signature(auditor: Any, changed_kg: Any) -> None:
    html = client_for(auditor).get(reverse("web:audit_trail"), {"action": "change"}).content.decode()

    assert '<span class="old">kilogram</span> → <span class="new">kilogramme</span>' in html
    assert "House style" in html
    assert "李华 Li Hua" in html


def test_the_trail_is_paginated_newest_first(auditor: Any, steward: Any) -> None:
    for number in range(51):
        services.create_item(actor=steward, kind=UNIT, data={"code": f"u{number}", "name_zh": "单位",
                                                              "name_en": "unit", "dimension": "count",
                                                              "factor": "1"})
    client = client_for(auditor)
    newest_first = list(AuditEntry.objects.order_by("-occurred_at", "-id").values_list("pk", flat=True))

    first_page = shown_entries(client.get(reverse("web:audit_trail")))
    second_page = shown_entries(client.get(reverse("web:audit_trail"), {"page": "2"}))

    assert first_page + second_page == newest_first
    assert len(first_page) == 50


@pytest.mark.req("AC-02")
def test_the_trail_needs_audit_view(make_user: Callable[..., Any]) -> None:
    assert client_for(make_user("operator")).get(reverse("web:audit_trail")).status_code == 403


def test_reading_the_trail_writes_nothing(auditor: Any, changed_kg: Any) -> None:
    before = AuditEntry.objects.count()

    client_for(auditor).get(reverse("web:audit_trail"))

    assert AuditEntry.objects.count() == before


# --- export ----------------------------------------------------------------------------------------

@pytest.mark.req("AT-09")
def test_the_csv_export_holds_the_filtered_entries_with_old_and_new_values(auditor: Any,
                                                                          changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_export"),
                                       {"record_type": "masterdata.unit", "record_id": str(changed_kg.pk)})

    assert response.streaming
    assert re.fullmatch(r'attachment; filename="batchline-audit-trail-\d{8}-\d{6}Z\.csv"',
                        response["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {r["entry_id"] for r in rows} == {str(e.pk) for e in AuditEntry.objects.filter(
        record_type="masterdata.unit", record_id=str(changed_kg.pk))}
    renamed = [r for r in rows if r["action"] == "change" and r["field"] == "name_en"]
    assert [(r["old_value"], r["new_value"], r["reason"]) for r in renamed] == [("kilogram", "kilogramme",
                                                                                  "House style")]


@pytest.mark.req("AC-02")
def test_export_needs_audit_export(make_user: Callable[..., Any]) -> None:
    supervisor = client_for(make_user("supervisor"))  # may read the trail, not export it

    assert supervisor.get(reverse("web:audit_trail")).status_code == 200
    assert supervisor.get(reverse("web:audit_export")).status_code == 403


# --- one record ----------------------------------------------------------------------------------------

@pytest.mark.req("AT-06")
def test_the_record_history_shows_the_whole_chain_oldest_first_with_signatures(auditor: Any,
                                                                               changed_kg: Any) -> None:
    response = client_for(auditor).get(reverse("web:audit_record", args=["masterdata.unit", changed_kg.pk]))

    html = response.content.decode()
    chain = AuditEntry.objects.filter(record_type="masterdata.unit",
                                      record_id=str(changed_kg.pk)).order_by("sequence")
    assert shown_entries(response) == [e.pk for e in chain]
    assert [e.action for e in chain] == ["create", "approve", "change"]
    assert '<span class="old">kilogram</span>' in html  # the original value stays visible
    manifest = re.search(r'<table class="manifest".*?</table>', html, re.S)
    assert manifest is not None
    assert manifest.group(0).count('<span class="warn">') == 1  # the first approval signed version 1
    assert manifest.group(0).count('<span class="ok">') == 1


# --- integrity ------------------------------------------------------------------------------------------

@pytest.mark.req("AT-08")
def test_the_integrity_check_reports_an_intact_trail(auditor: Any, changed_kg: Any) -> None:
    client = client_for(auditor)
    assert 'data-testid="verify-report"' not in client.get(reverse("web:audit_integrity")).content.decode()

    html = client.post(reverse("web:audit_integrity")).content.decode()

    assert 'data-testid="verify-ok"' in html
    assert f"OK, {AuditEntry.objects.count()} entries" in html


@pytest.mark.req("AC-02")
def test_the_integrity_check_needs_audit_verify(make_user: Callable[..., Any]) -> None:
    assert client_for(make_user("supervisor")).post(reverse("web:audit_integrity")).status_code == 403
