"""`batchline demo`: the demo plant loads through the services, once, and its accounts work."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from batchline.compliance.models import AuditEntry, Signature
from batchline.core.models import OutboxEvent
from batchline.demo import plant
from batchline.identity.models import User
from batchline.masterdata.content import gs1_check_digit_ok
from batchline.masterdata.models import CodeMap, NumberRule
from batchline.masterdata.registry import KINDS

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    rows = {slug: kind.model._default_manager.count() for slug, kind in KINDS.items()}
    rows.update(users=User.objects.count(), number_rules=NumberRule.objects.count(),
                code_maps=CodeMap.objects.count(), audit_entries=AuditEntry.objects.count(),
                signatures=Signature.objects.count(), outbox=OutboxEvent.objects.count())
    return rows


@pytest.fixture
def demo_plant() -> str:
    return run_demo()


def test_demo_loads_every_part_of_the_plant(demo_plant: str) -> None:
    loaded = counts()
    assert loaded["unit"] == len(plant.UNITS)
    assert loaded["material"] == len(plant.MATERIALS)
    assert loaded["location"] == len(plant.LOCATIONS)
    assert loaded["users"] == len(plant.ACCOUNTS)
    assert loaded["number_rules"] == len(plant.NUMBER_RULES)
    assert loaded["code_maps"] == len(plant.CODE_MAPS)


def test_loading_the_demo_twice_changes_nothing_and_writes_no_audit_entry(demo_plant: str) -> None:
    before = counts()
    second = run_demo()
    assert "already loaded; nothing changed" in second
    assert counts() == before


def test_audit_trail_verifies_after_loading_the_demo(demo_plant: str) -> None:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("OK, ")


def test_every_demo_item_is_approved_with_a_signature_by_another_person(demo_plant: str) -> None:
    steward = User.objects.get(username=plant.STEWARD.username)
    approver = User.objects.get(username=plant.QA_REVIEWER.username)
    for kind in KINDS.values():
        for item in kind.model._default_manager.all():
            assert item.status == "approved"
            assert (item.created_by_id, item.approved_by_id) == (steward.pk, approver.pk)
    master_items = sum(kind.model._default_manager.count() for kind in KINDS.values())
    assert Signature.objects.filter(signer=approver, meaning="approve").count() == master_items


def test_demo_prints_the_url_and_one_account_per_role(demo_plant: str) -> None:
    assert "http://127.0.0.1:8000/login/" in demo_plant
    assert plant.DEMO_PASSWORD in demo_plant
    from batchline.identity.roles import role_codes

    assert {a.role for a in plant.ACCOUNTS} == set(role_codes())
    for account in plant.ACCOUNTS:
        assert account.username in demo_plant


def test_demo_gtins_and_glns_carry_valid_check_digits() -> None:
    keys = [m["gtin"] for m in plant.MATERIALS if m["gtin"]] + [c["gln"] for c in plant.CUSTOMERS]
    assert keys
    assert all(gs1_check_digit_ok(key) for key in keys)


def test_demo_people_sign_in_without_a_forced_password_change(demo_plant: str) -> None:
    people = [a for a in plant.ACCOUNTS if a.signs_in]
    assert len(people) == len(plant.ACCOUNTS) - 1
    for account in people:
        client = Client()
        response = client.post(reverse("web:login"), {"username": account.username,
                                                      "password": plant.DEMO_PASSWORD})
        assert response.status_code == 302, account.username
        home = client.get(reverse("web:home"))
        assert (home.status_code, home.wsgi_request.user.username) == (200, account.username)


def test_demo_system_account_cannot_sign_in_interactively(demo_plant: str) -> None:
    assert not Client().login(username="sap-prd", password=plant.DEMO_PASSWORD)
