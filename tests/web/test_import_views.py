"""Master-data import screens: upload, the dry run's progress bar (HTMX polling), the report and
apply (MD-05)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse

from batchline.compliance.models import AuditEntry
from batchline.masterdata import importing, services
from batchline.masterdata.models import ImportBatch, MasterDataChange, Unit
from batchline.masterdata.registry import kind_of

UNIT = kind_of("unit")
HEADER = "code,name_zh,name_en,dimension,factor\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, text: str, kind: str = "unit", filename: str = "units.csv") -> Any:
    return client.post(reverse("web:import_index"),
                       {"kind": kind, "file": SimpleUploadedFile(filename, text.encode("utf-8"))})


def uploaded(client: Client, text: str) -> ImportBatch:
    response = upload(client, text)
    assert response.status_code == 302
    return ImportBatch.objects.get(pk=resolve(response["Location"]).kwargs["batch_id"])


def poll_until_done(client: Client, batch: ImportBatch) -> list[Any]:
    """What the browser does: post to the polling URL until the response redirects to the report."""
    responses = []
    for _attempt in range(100):
        response = client.post(reverse("web:import_plan", args=[batch.pk]), **HTMX)
        responses.append(response)
        if "HX-Redirect" in response:
            return responses
    raise AssertionError("the dry run never finished")


@pytest.fixture
def units(steward: Any, approved: Any, kg: Any) -> dict[str, Any]:
    t = approved("unit", code="t", name_zh="吨", name_en="tonne", dimension="mass", factor="1000")
    g = services.create_item(actor=steward, kind=UNIT, data={"code": "g", "name_zh": "克", "name_en": "gram",
                                                             "dimension": "mass", "factor": "0.001"})
    return {"kg": kg, "t": t, "g": g}


def test_import_urls_are_not_taken_by_the_master_data_screens() -> None:
    assert resolve("/masterdata/import/").func.__module__ == "batchline.web.views.imports"
    assert resolve("/masterdata/import/7/").func.__module__ == "batchline.web.views.imports"


@pytest.mark.req("MD-05")
def test_upload_poll_the_progress_bar_until_done_then_apply(units: dict[str, Any], steward: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    client = client_for(steward)
    batch = uploaded(client, HEADER + "kg,千克,kilogram,mass,1\ng,克,gram (draft),mass,0.001\n"
                                      "t,吨,metric tonne,mass,1000\nmg,毫克,milligram,mass,0.000001\n"
                                      "ug,微克,microgram,mass,0.000000001\n")
    page = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 500ms"' in page and 'data-testid="import-progress"' in page

    responses = poll_until_done(client, batch)
    progress = [int(re.search(r'data-done="(\d+)"', r.content.decode()).group(1)) for r in responses]
    assert progress == [2, 4, 5]
    assert all("every 500ms" in r.content.decode() for r in responses[:-1])
    assert "every 500ms" not in responses[-1].content.decode()  # polling stops
    assert responses[-1]["HX-Redirect"] == reverse("web:import_batch", args=[batch.pk])

    report = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    assert 'data-action="propose_change" data-count="1"' in report
    assert 'data-action="create" data-count="2"' in report
    assert 'data-row="3" data-action="update_draft"' in report
    assert '<del>tonne</del> → <span class="new">metric tonne</span>' in report
    assert 'data-testid="change-control-ref"' in report  # an approved item changes
    assert not Unit.objects.filter(code="mg").exists()

    response = client.post(reverse("web:import_apply", args=[batch.pk]),
                           {"reason": "Align unit names with ERP", "change_control_ref": "CC-2026-031"})
    assert response.status_code == 302
    summary = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-outcome"' in summary
    assert Unit.objects.get(code="mg").status == "draft"
    assert MasterDataChange.objects.get(record_code="t").change_control_ref == "CC-2026-031"
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.applied_by_id == steward.pk


@pytest.mark.req("MD-05")
def test_without_javascript_the_continue_button_advances_the_dry_run(units: dict[str, Any],
                                                                    steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, HEADER + "mg,毫克,milligram,mass,0.000001\n")
    page = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    assert 'data-testid="continue"' in page
    response = client.post(reverse("web:import_plan", args=[batch.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:import_batch", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLANNED


@pytest.mark.req("MD-05")
def test_report_names_row_and_field_of_errors_and_apply_is_disabled(units: dict[str, Any],
                                                                   steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, HEADER + "mg,毫克,milligram,mass,0.000001\nug,微克,microgram,mass,abc\n")
    poll_until_done(client, batch)
    report = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    row = re.search(r'<tr class="action-error error" data-row="3".*?</tr>', report, re.S)
    assert row is not None and 'data-testid="row-error" data-field="factor"' in row.group(0)
    assert 'data-testid="apply-blocked"' in report
    assert re.search(r'data-testid="apply"\s+disabled', report)

    before = AuditEntry.objects.count()
    response = client.post(reverse("web:import_apply", args=[batch.pk]))
    assert response.status_code == 422
    assert 'data-code="import_has_errors"' in response.content.decode()
    assert AuditEntry.objects.count() == before and not Unit.objects.filter(code="mg").exists()


@pytest.mark.req("MD-05", "MD-01")
def test_apply_without_reason_for_an_approved_item_is_refused_next_to_the_field(units: dict[str, Any],
                                                                                steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, HEADER + "t,吨,metric tonne,mass,1000\n")
    poll_until_done(client, batch)
    response = client.post(reverse("web:import_apply", args=[batch.pk]),
                           {"reason": "", "change_control_ref": "CC-1"})
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="field-error"' in page and 'value="CC-1"' in page  # what was typed stays
    assert not MasterDataChange.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLANNED


@pytest.mark.req("MD-05")
def test_only_changes_and_errors_can_be_shown(units: dict[str, Any], steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, HEADER + "kg,千克,kilogram,mass,1\nmg,毫克,milligram,mass,0.000001\n")
    poll_until_done(client, batch)
    page = client.get(reverse("web:import_batch", args=[batch.pk]), {"show": "changes"}).content.decode()
    assert 'data-row="3"' in page and 'data-row="2"' not in page


def test_an_unreadable_file_comes_back_to_the_upload_page_with_the_message(steward: Any) -> None:
    client = client_for(steward)
    response = upload(client, "whatever", filename="units.txt")
    assert response.status_code == 302 and response["Location"] == reverse("web:import_index")
    page = client.get(response["Location"]).content.decode()
    assert "flash error" in page
    assert not ImportBatch.objects.exists()


def test_a_template_csv_can_be_downloaded_per_kind(steward: Any) -> None:
    response = client_for(steward).get(reverse("web:import_template", args=["material"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode("utf-8-sig").startswith("code,name_zh,name_en,material_type,base_unit")


@pytest.mark.req("MD-05")
def test_a_failed_apply_is_shown_and_the_dry_run_can_be_run_again(units: dict[str, Any],
                                                                  steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, HEADER + "g,克,gram (draft),mass,0.001\n")
    poll_until_done(client, batch)
    services.update_draft(actor=steward, kind=UNIT, item_id=units["g"].pk, data={"name_en": "gramme"})
    response = client.post(reverse("web:import_apply", args=[batch.pk]))
    assert 'data-code="import_stale"' in response.content.decode()
    page = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    assert 'data-testid="import-failure"' in page
    response = client.post(reverse("web:import_replan", args=[batch.pk]))
    assert response.status_code == 302
    poll_until_done(client, batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PLANNED


@pytest.mark.req("MD-05", "AC-02")
def test_import_screens_need_the_import_permission(make_user: Any) -> None:
    operator = client_for(make_user("operator"))
    assert operator.get(reverse("web:import_index")).status_code == 403
    assert upload(operator, HEADER + "mg,毫克,milligram,mass,0.000001\n").status_code == 403
    anonymous = Client().get(reverse("web:import_index"))
    assert anonymous.status_code == 302 and reverse("web:login") in anonymous["Location"]
    assert not ImportBatch.objects.exists()


def test_report_shows_the_fields_in_the_forms_order(steward: Any) -> None:
    client = client_for(steward)
    batch = uploaded(client, "factor,dimension,name_en,name_zh,code\n0.000001,mass,milligram,毫克,mg\n")
    poll_until_done(client, batch)
    report = client.get(reverse("web:import_batch", args=[batch.pk])).content.decode()
    fields = re.findall(r'<li data-field="(\w+)"', report)
    assert fields == ["code", "name_zh", "name_en", "dimension", "factor"]
