"""The committed OpenAPI schema (docs/openapi.json) matches the API the code defines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_schema_is_up_to_date(db: None) -> None:
    call_command("openapi", "--check", "--path", str(COMMITTED))


def test_the_check_fails_and_names_what_differs(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    del schema["paths"]["/api/v1/me"]
    schema["info"]["version"] = "0"
    stale = tmp_path / "openapi.json"
    stale.write_text(json.dumps(schema, indent=2, sort_keys=True), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("openapi", "--check", "--path", str(stale))
    assert refused.value.returncode == 1
    out = capsys.readouterr().out
    assert "operation added: GET /api/v1/me" in out
    assert "top-level key changed: info" in out


def test_the_schema_is_written_sorted_with_a_trailing_newline(db: None, tmp_path: Path) -> None:
    target = tmp_path / "docs" / "openapi.json"
    call_command("openapi", "--path", str(target))
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_served_schema_has_no_duplicate_keys(token_for: Callable[..., Any], steward: Any) -> None:
    """Swagger UI refuses a schema with a key twice (an int and a str status code, say)."""
    caller = token_for(steward, ["masterdata.view"])
    text = caller.client.get("/api/v1/openapi.json", headers=caller.headers).content.decode()

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(text, object_pairs_hook=no_duplicates)
