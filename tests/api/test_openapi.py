"""The committed OpenAPI schema (docs/openapi.json) matches the API the code defines."""

from __future__ import annotations

import json
from pathlib import Path

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
