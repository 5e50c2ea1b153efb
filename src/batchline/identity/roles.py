"""Reads permissions.toml: the roles, and which roles hold which permission."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

MATRIX_FILE = Path(__file__).with_name("permissions.toml")
SYSTEM_ADMINISTRATOR = "system_administrator"
INTEGRATION = "integration"
# Roles that never sit on one account with a GMP data role (AC-05).
NON_GMP_ROLES = frozenset({SYSTEM_ADMINISTRATOR})


@cache
def _matrix() -> dict:
    with MATRIX_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    roles = data["roles"]
    for permission, holders in data["permissions"].items():
        unknown = set(holders) - set(roles)
        if unknown:
            raise ValueError(f"permissions.toml: {permission} names unknown roles {sorted(unknown)}")
    return data


def role_codes() -> list[str]:
    return list(_matrix()["roles"])


def role_label(code: str, language: str) -> str:
    labels = _matrix()["roles"].get(code)
    if labels is None:
        return code
    return labels["zh"] if language.startswith("zh") else labels["en"]


def roles_holding(permission: str) -> frozenset[str]:
    try:
        return frozenset(_matrix()["permissions"][permission])
    except KeyError:
        raise KeyError(f"unknown permission {permission!r}: add it to permissions.toml") from None


@cache
def permissions_of(roles: tuple[str, ...]) -> frozenset[str]:
    held = set(roles)
    return frozenset(p for p, holders in _matrix()["permissions"].items() if held & set(holders))
