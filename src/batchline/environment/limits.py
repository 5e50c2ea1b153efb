"""Alert and action limits: the documented defaults per cleanroom grade, and how a value is judged.

The defaults below are the table of docs/environment.md. The particle action limits are the maximum
permitted total particle concentrations of EU GMP Annex 1 (2022), Table 1, **in operation**
(grade D in operation is "not predetermined" there: the at-rest values are used, the plant's
choice). Temperature, humidity and differential pressure are typical plant values. Alert levels
are the plant's early warning, set below the action levels. A site changes a grade's limits, or one
room's, through environment.services (audited); those rows win over this table.

A value *beyond* a limit is an excursion: above a high limit or below a low limit. A value equal
to the limit is within it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from batchline.environment.choices import Direction, Level, Parameter

D = Decimal


@dataclass(frozen=True)
class Limits:
    """One parameter's limits; None means "no limit on this side"."""

    alert_low: Decimal | None = None
    alert_high: Decimal | None = None
    action_low: Decimal | None = None
    action_high: Decimal | None = None

    def level(self, value: Decimal) -> Level:
        if ((self.action_high is not None and value > self.action_high)
                or (self.action_low is not None and value < self.action_low)):
            return Level.ACTION
        if ((self.alert_high is not None and value > self.alert_high)
                or (self.alert_low is not None and value < self.alert_low)):
            return Level.ALERT
        return Level.OK

    def direction(self, value: Decimal) -> Direction:
        """Which side a value outside the limits lies on."""
        high = self.alert_high if self.alert_high is not None else self.action_high
        return Direction.HIGH if high is not None and value > high else Direction.LOW

    @property
    def is_set(self) -> bool:
        return any(v is not None for v in (self.alert_low, self.alert_high, self.action_low, self.action_high))

    def as_dict(self) -> dict[str, str | None]:
        """Decimals as strings (messages, snapshots on alarms)."""
        return {name: (None if value is None else format(value, "f")) for name, value in (
            ("alert_low", self.alert_low), ("alert_high", self.alert_high),
            ("action_low", self.action_low), ("action_high", self.action_high))}

    @classmethod
    def of(cls, row: Any) -> Limits:
        """From a model row with the four limit fields."""
        return cls(row.alert_low, row.alert_high, row.action_low, row.action_high)


NO_LIMITS = Limits()


def _band(action_low: str | None, alert_low: str | None, alert_high: str | None, action_high: str | None) -> Limits:
    return Limits(alert_low=None if alert_low is None else D(alert_low),
                  alert_high=None if alert_high is None else D(alert_high),
                  action_low=None if action_low is None else D(action_low),
                  action_high=None if action_high is None else D(action_high))


# Bands read from left to right as on a scale: action low, alert low, alert high, action high.
_CLEAN_TEMPERATURE = _band("18", "19", "25", "26")
_CLEAN_HUMIDITY = _band("30", "35", "60", "65")
_CLEAN_DP = _band("10", "11", "50", "60")

DEFAULT_LIMITS: dict[str, dict[str, Limits]] = {
    "A": {
        Parameter.TEMPERATURE: _CLEAN_TEMPERATURE, Parameter.HUMIDITY: _CLEAN_HUMIDITY,
        Parameter.DIFFERENTIAL_PRESSURE: _CLEAN_DP,
        Parameter.PARTICLES_05: _band(None, None, "2000", "3520"),
        Parameter.PARTICLES_50: _band(None, None, "20", "29"),
    },
    "B": {
        Parameter.TEMPERATURE: _CLEAN_TEMPERATURE, Parameter.HUMIDITY: _CLEAN_HUMIDITY,
        Parameter.DIFFERENTIAL_PRESSURE: _CLEAN_DP,
        Parameter.PARTICLES_05: _band(None, None, "200000", "352000"),
        Parameter.PARTICLES_50: _band(None, None, "2000", "2930"),
    },
    "C": {
        Parameter.TEMPERATURE: _CLEAN_TEMPERATURE, Parameter.HUMIDITY: _CLEAN_HUMIDITY,
        Parameter.DIFFERENTIAL_PRESSURE: _CLEAN_DP,
        Parameter.PARTICLES_05: _band(None, None, "2000000", "3520000"),
        Parameter.PARTICLES_50: _band(None, None, "20000", "29300"),
    },
    "D": {
        Parameter.TEMPERATURE: _CLEAN_TEMPERATURE, Parameter.HUMIDITY: _CLEAN_HUMIDITY,
        Parameter.DIFFERENTIAL_PRESSURE: _CLEAN_DP,
        Parameter.PARTICLES_05: _band(None, None, "2000000", "3520000"),
        Parameter.PARTICLES_50: _band(None, None, "20000", "29300"),
    },
    "CNC": {
        Parameter.TEMPERATURE: _CLEAN_TEMPERATURE, Parameter.HUMIDITY: _CLEAN_HUMIDITY,
        Parameter.DIFFERENTIAL_PRESSURE: _band("5", "6", "50", "60"),
    },
    "U": {
        Parameter.TEMPERATURE: _band("10", "12", "28", "30"),
        Parameter.HUMIDITY: _band("20", "25", "70", "75"),
    },
}


def default_limits(grade: str, parameter: str) -> Limits:
    return DEFAULT_LIMITS.get(grade, {}).get(parameter, NO_LIMITS)


def check_order(limits: Limits) -> bool:
    """The four limits, where set, read in order on a scale: action low ≤ alert low < alert high ≤
    action high. An alert limit outside its action limit would never be reached first."""
    values = [limits.action_low, limits.alert_low, limits.alert_high, limits.action_high]
    present = [v for v in values if v is not None]
    if any(a > b for a, b in pairwise(present)):
        return False
    lows = [v for v in (limits.action_low, limits.alert_low) if v is not None]
    highs = [v for v in (limits.alert_high, limits.action_high) if v is not None]
    return not (lows and highs and max(lows) >= min(highs))
