"""Whether a lot may be used, on a given day, for a given purpose: the one check of WMS-04.

Allocation, picking, dispensing, charging and shipping all ask `ensure_usable()` (or filter with
`usable_lots_q()`, its query form, which must say the same thing: a test holds them equal).

Dates: a lot is expired from its expiry date on and retest-due from its retest date on. Both are
conservative readings of the label date, on purpose: on the expiry day itself nothing is issued.
A need-by date moves the question to that day: stock that will be expired or due for retest when
the order needs it is not allocated (WMS-05).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from batchline.core import clock
from batchline.core.errors import ensure
from batchline.inventory.choices import DerivedLotState, LotStatus
from batchline.inventory.errors import LotNotUsable
from batchline.inventory.models import Lot


def today() -> date:
    """The plant's calendar day (site time zone): what expiry and retest dates are compared with."""
    return clock.now().astimezone(clock.site_zone()).date()


def lot_state(lot: Lot, on: date | None = None) -> DerivedLotState:
    """What the lot is on the day `on`: expired and retest-due override the stored status, because a
    released lot that expired is no longer usable, and a rejected one stays rejected."""
    on = on or today()
    if lot.status in (LotStatus.REJECTED, LotStatus.QUARANTINE):
        return DerivedLotState(lot.status)
    if lot.expires_on is not None and on >= lot.expires_on:
        return DerivedLotState.EXPIRED
    if lot.retest_on is not None and on >= lot.retest_on:
        return DerivedLotState.RETEST_DUE
    return DerivedLotState(lot.status)


_REASONS: dict[str, Any] = {
    DerivedLotState.QUARANTINE: _("it is in quarantine (no QC decision yet)."),
    DerivedLotState.REJECTED: _("it was rejected by QC."),
    DerivedLotState.RESTRICTED: _("it is restricted ({restriction}); restricted lots are not issued for general use."),
    DerivedLotState.EXPIRED: _("it expires on {expires_on}."),
    DerivedLotState.RETEST_DUE: _("its retest is due on {retest_on}."),
}


def refusal(lot: Lot, *, on: date | None = None, need_by: date | None = None) -> str | None:
    """None when the lot is usable today and (if given) still on the need-by day; else the reason."""
    on = on or today()
    for day in (on, need_by) if need_by is not None and need_by > on else (on,):
        state = lot_state(lot, day)
        if state != DerivedLotState.RELEASED:
            return str(_REASONS[state]).format(restriction=lot.restriction, expires_on=lot.expires_on,
                                               retest_on=lot.retest_on)
    return None


def ensure_usable(lot: Lot, *, on: date | None = None, need_by: date | None = None) -> None:
    """Refuse (LotNotUsable) unless the lot is released, unexpired and not due for retest, today and
    on the need-by day."""
    reason = refusal(lot, on=on, need_by=need_by)
    ensure(reason is None, LotNotUsable(lot=lot.number, reason=reason, field="lot"))


def usable_lots_q(*, on: date | None = None, need_by: date | None = None, prefix: str = "") -> Q:
    """The same rule as a query condition on Lot (or, with prefix="lot__", on a row that links to one)."""
    on = on or today()
    last_day = max(on, need_by) if need_by is not None else on
    return (Q(**{f"{prefix}status": LotStatus.RELEASED})
            & (Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gt": last_day}))
            & (Q(**{f"{prefix}retest_on__isnull": True}) | Q(**{f"{prefix}retest_on__gt": last_day})))
