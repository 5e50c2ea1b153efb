"""Canonical JSON: the same content always gives the same bytes (signature and audit hashes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from batchline.core.canonical import canonical_json, content_hash


@pytest.mark.req("ES-03")
def test_decimal_with_trailing_zeros_is_canonicalised_like_without() -> None:
    # A value parsed from a form ("0.5") and the same value read back from a DECIMAL(28,12)
    # column ("0.500000000000") are the same content and must hash the same.
    assert canonical_json(Decimal("0.5")) == canonical_json(Decimal("0.500000000000"))


def test_integral_decimal_is_canonicalised_without_exponent() -> None:
    assert canonical_json(Decimal("100.000")) == '"100"'
    assert canonical_json(Decimal("1E+2")) == '"100"'


def test_decimal_is_written_as_a_string_not_a_float() -> None:
    assert canonical_json({"q": Decimal("0.1")}) == '{"q":"0.1"}'


def test_same_instant_in_different_zones_is_canonicalised_the_same() -> None:
    utc = dt.datetime(2026, 11, 22, 6, 3, 7, tzinfo=dt.UTC)
    shanghai = utc.astimezone(ZoneInfo("Asia/Shanghai"))
    assert canonical_json(utc) == canonical_json(shanghai) == '"2026-11-22T06:03:07+00:00"'


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        canonical_json(dt.datetime(2026, 11, 22, 6, 3, 7))


def test_key_order_does_not_change_the_hash() -> None:
    assert content_hash({"a": 1, "b": "二"}) == content_hash({"b": "二", "a": 1})


def test_float_free_content_of_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
