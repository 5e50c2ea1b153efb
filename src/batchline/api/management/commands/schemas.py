"""`batchline schemas`: publish the JSON Schema of every message (api/messages.py) to docs/schemas/.

One file per message, <name>.json, draft 2020-12 as Pydantic emits it, keys sorted. `--check`
compares the committed files with what the code produces and exits 1 naming every file that
differs, is missing or is no longer a message (CI runs the check).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.api.messages import Message, messages

DEFAULT_DIR = Path("docs") / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(message: Message) -> dict[str, Any]:
    schema = message.model.model_json_schema()
    return {"$schema": DRAFT, "$id": message.file_name, **schema}


def schema_text(message: Message) -> str:
    return json.dumps(schema_of(message), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    return {m.file_name: schema_text(m) for m in messages()}


def differing_files(directory: Path) -> list[str]:
    expected = expected_files()
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    out = [name for name, text in expected.items()
           if name not in present or (directory / name).read_text(encoding="utf-8") != text]
    out += sorted(present - set(expected))
    return out


class Command(BaseCommand):
    help = "Write the JSON Schema of every message to docs/schemas/, or --check that they are up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true",
                            help="compare with the committed files; exit 1 naming those that differ")
        parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                            help=f"the schema directory (default: {DEFAULT_DIR}, from the working directory)")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"]
        if options["check"]:
            differing = differing_files(directory)
            if not differing:
                self.stdout.write(f"{directory}: {len(messages())} schemas up to date.")
                return
            for name in differing:
                self.stdout.write(f"  differs: {directory / name}")
            raise CommandError("message schemas changed: review them, run `batchline schemas` and commit "
                               f"{directory}", returncode=1)
        directory.mkdir(parents=True, exist_ok=True)
        expected = expected_files()
        for stale in directory.glob("*.json"):
            if stale.name not in expected:
                stale.unlink()
        for name, text in expected.items():
            (directory / name).write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {len(expected)} schemas to {directory}.")
