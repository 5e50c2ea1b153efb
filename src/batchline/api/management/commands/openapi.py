"""`batchline openapi`: write the API's OpenAPI schema to docs/openapi.json.

`batchline openapi --check` compares the committed file with the schema the code produces and exits
1 with a summary of what differs: the API contract partners integrate against never changes by
accident (CI runs the check).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

DEFAULT_PATH = Path("docs") / "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DIFF_LINES = 80


def schema_text() -> str:
    from batchline.api.api import api

    # Through JSON once first: status codes are int keys in the schema object, and sorting needs one key type.
    plain = json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _operations(schema: dict[str, Any]) -> dict[str, Any]:
    return {f"{method.upper()} {path}": op
            for path, item in schema.get("paths", {}).items()
            for method, op in item.items() if method in METHODS}


def _compare(label: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"  {label} added: {name}" for name in sorted(set(new) - set(old))]
    lines += [f"  {label} removed: {name}" for name in sorted(set(old) - set(new))]
    lines += [f"  {label} changed: {name}" for name in sorted(set(old) & set(new)) if old[name] != new[name]]
    return lines


def summary(committed: str, current: str) -> list[str]:
    try:
        old = json.loads(committed)
    except ValueError:
        return ["  the committed file is not valid JSON"]
    new = json.loads(current)
    lines = _compare("operation", _operations(old), _operations(new))
    lines += _compare("schema", old.get("components", {}).get("schemas", {}),
                      new.get("components", {}).get("schemas", {}))
    others = {k: v for k, v in old.items() if k not in ("paths", "components")}
    others_new = {k: v for k, v in new.items() if k not in ("paths", "components")}
    lines += _compare("top-level key", others, others_new)
    return lines


class Command(BaseCommand):
    help = "Write the OpenAPI schema of /api/v1 to docs/openapi.json, or --check that it is up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true",
                            help="compare with the committed file; exit 1 with a summary if it differs")
        parser.add_argument("--path", type=Path, default=DEFAULT_PATH,
                            help=f"the schema file (default: {DEFAULT_PATH}, from the working directory)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        current = schema_text()
        if not options["check"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(current, encoding="utf-8")
            self.stdout.write(f"Wrote {path}.")
            return
        if not path.exists():
            raise CommandError(f"{path} does not exist: run `batchline openapi` and commit it.", returncode=1)
        committed = path.read_text(encoding="utf-8")
        if committed == current:
            self.stdout.write(f"{path} is up to date.")
            return
        self.stdout.write(f"{path} differs from the API the code defines:")
        for line in summary(committed, current) or ["  formatting only"]:
            self.stdout.write(line)
        diff = list(difflib.unified_diff(committed.splitlines(), current.splitlines(), lineterm="",
                                         fromfile=f"{path} (committed)", tofile=f"{path} (code)"))
        for line in diff[:DIFF_LINES]:
            self.stdout.write(line)
        if len(diff) > DIFF_LINES:
            self.stdout.write(f"... {len(diff) - DIFF_LINES} more diff lines")
        raise CommandError("the OpenAPI schema changed: review it, run `batchline openapi` and commit "
                           f"{path}", returncode=1)
