"""User ids are unique in any letter case at the database level, not only in the service's check."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from batchline.core import clock
from batchline.identity.models import User


@pytest.mark.req("AC-04")
def test_database_refuses_a_user_id_that_differs_only_in_case(make_user: Any) -> None:
    make_user("operator", username="alice")
    twin = User(username="ALICE", full_name="Alice twin", roles=["operator"], created_at=clock.now())
    twin.set_unusable_password()
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert User.objects.filter(username__iexact="alice").count() == 1
