"""Helpers for the API tests: a JSON client for /api/v1 and request bodies."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

BASE = "/api/v1"


class ApiClient:
    """Talks JSON to /api/v1 as one caller; `key` sends an Idempotency-Key."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        sent = {**self.headers, **(headers or {})}
        if key is not None:
            sent["Idempotency-Key"] = key
        url = BASE + path
        if method == "get":
            return self.client.get(url, params, headers=sent)
        data = json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(url, data=data, content_type="application/json", headers=sent)

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self._send("get", path, headers=headers, **params)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self._send("post", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self._send("put", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self._send("patch", path, body, **kw)


_keys = {"n": 0}


def new_key() -> str:
    _keys["n"] += 1
    return f"test-key-{_keys['n']}"


def signature(user: Any, password: str | None = None, username: str | None = None) -> dict[str, str]:
    from conftest import PASSWORD

    return {
        "username": username if username is not None else user.username,
        "password": password if password is not None else PASSWORD,
        "meaning": "approve",
        "comment": "",
    }


KG = {"code": "kg", "name_zh": "千克", "name_en": "kilogram", "dimension": "mass", "factor": "1"}
