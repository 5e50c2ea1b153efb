"""`batchline datadict`: write the data dictionary of every message (api/messages.py) to
docs/datadict.md and docs/datadict.html.

The rows come from the published JSON Schemas (`batchline schemas`), so the dictionary says exactly
what the schemas say: per field its path (nested with dots, list items with []), type,
length/precision, required, unit and description in English and Chinese. `--check` exits 1 when a
committed file differs from what the code produces.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batchline.api.management.commands.schemas import schema_of
from batchline.api.messages import Message, messages

DEFAULT_DIR = Path("docs")
MD_NAME = "datadict.md"
HTML_NAME = "datadict.html"
# Descriptions are "English. 中文。": the Chinese part starts at the first CJK character.
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def split_description(text: str) -> tuple[str, str]:
    match = _CJK.search(text)
    if not match:
        return text.strip(), ""
    return text[:match.start()].strip(), text[match.start():].strip()


@dataclass(frozen=True)
class Row:
    path: str
    type: str
    size: str
    required: bool
    unit: str
    description_en: str
    description_zh: str


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        resolved = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**resolved, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _unwrap_null(node: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """An Optional field is anyOf [X, null]: return X (with the outer description) and nullable."""
    node = _resolve(node, defs)
    options = node.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            outer = {k: v for k, v in node.items() if k != "anyOf"}
            return {**_resolve(rest[0], defs), **outer}, True
    return node, False


def _type_of(node: dict[str, Any], nullable: bool) -> str:
    if "const" in node:
        text = f'"{node["const"]}"'
    elif "enum" in node:
        text = "enum: " + ", ".join(str(v) for v in node["enum"])
    elif node.get("format") in ("date-time", "date", "uuid"):
        text = f'{node.get("type", "string")} ({node["format"]})'
    elif node.get("type") == "string" and "max_digits" in node:
        text = "decimal string"
    else:
        text = str(node.get("type", "any"))
    return f"{text} | null" if nullable else text


def _size_of(node: dict[str, Any]) -> str:
    parts = []
    if "minLength" in node:
        parts.append(f"min length {node['minLength']}")
    if "maxLength" in node:
        parts.append(f"max length {node['maxLength']}")
    if "max_digits" in node:
        parts.append(f"max digits {node['max_digits']}")
    if "decimal_places" in node:
        parts.append(f"decimal places {node['decimal_places']}")
    if "minimum" in node:
        parts.append(f"≥ {node['minimum']}")
    if "maximum" in node:
        parts.append(f"≤ {node['maximum']}")
    if "pattern" in node and "max_digits" not in node:
        parts.append(f"pattern {node['pattern']}")
    return "; ".join(parts)


def _walk(node: dict[str, Any], defs: dict[str, Any], prefix: str, rows: list[Row]) -> None:
    required = set(node.get("required", ()))
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        field, nullable = _unwrap_null(prop, defs)
        en, zh = split_description(field.get("description", ""))
        is_array = field.get("type") == "array"
        items = _resolve(field.get("items", {}), defs) if is_array else {}
        shown = items if is_array else field
        type_text = _type_of(shown, nullable=False)
        if is_array:
            type_text = f"array of {type_text}"
        if nullable:
            type_text += " | null"
        unit = field.get("unit_field", "")
        size = _size_of(shown)
        if is_array:
            counts = [f"{word} {field[key]} items" for word, key in (("min", "minItems"), ("max", "maxItems"))
                      if key in field]
            size = "; ".join([*counts, *([size] if size else [])])
        rows.append(Row(path, type_text, size, name in required, unit, en, zh))
        if shown.get("type") == "object" and "properties" in shown:
            _walk(shown, defs, f"{path}[]." if is_array else f"{path}.", rows)


def rows_of(message: Message) -> list[Row]:
    schema = schema_of(message)
    rows: list[Row] = []
    _walk(schema, schema.get("$defs", {}), "", rows)
    return rows


HEADERS = ("Field 字段", "Type 类型", "Length / precision 长度/精度", "Required 必填", "Unit 单位",
           "Description", "说明")
INTRO_EN = ("Every message Batchline exchanges, generated by `batchline datadict` from the published "
            "JSON Schemas in [schemas/](schemas/) (`batchline schemas`). Do not edit by hand.")
INTRO_ZH = "Batchline 交换的全部消息的数据字典，由代码中的消息结构自动生成，请勿手工修改。"


def _cells(row: Row) -> tuple[str, ...]:
    return (row.path, row.type, row.size, "yes 是" if row.required else "no 否", row.unit,
            row.description_en, row.description_zh)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    lines = ["# Data dictionary 数据字典", "", INTRO_EN, "", INTRO_ZH, "",
             "| message 消息 | direction 方向 | summary 说明 |", "|---|---|---|"]
    for m in messages():
        lines.append(f"| [{m.name}](#{m.name.replace('.', '')}) | {m.direction} | {_md_cell(m.summary)} |")
    for m in messages():
        lines += ["", f"## {m.name}", "", m.summary, "",
                  f"- direction 方向: {m.direction}", f"- transport 传输: {_md_cell(m.transport)}",
                  f"- schema 结构: [schemas/{m.file_name}](schemas/{m.file_name})", "",
                  "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        for row in rows_of(m):
            cells = [_md_cell(c) for c in _cells(row)]
            cells[0] = f"`{cells[0]}`"
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


STYLE = """
body { font-family: "Noto Sans", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 2rem; color: #1f2933; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #cbd2d9; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin: 0.6rem 0; }
th, td { border: 1px solid #cbd2d9; padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #f0f4f8; word-break: keep-all; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85rem; }
p.meta { color: #52606d; margin: 0.2rem 0; }
"""


def html_page() -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           "<title>Batchline data dictionary 数据字典</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
           "<h1>Batchline data dictionary 数据字典</h1>",
           f"<p>{e(INTRO_EN.replace('`', '').replace('[schemas/](schemas/)', 'schemas/'))}</p>",
           f"<p>{e(INTRO_ZH)}</p>", "<table>",
           "<tr><th>message 消息</th><th>direction 方向</th><th>summary 说明</th></tr>"]
    for m in messages():
        out.append(f'<tr><td><a href="#{e(m.name)}">{e(m.name)}</a></td><td>{e(m.direction)}</td>'
                   f"<td>{e(m.summary)}</td></tr>")
    out.append("</table>")
    for m in messages():
        out += [f'<h2 id="{e(m.name)}">{e(m.name)}</h2>', f"<p>{e(m.summary)}</p>",
                f'<p class="meta">direction 方向: {e(m.direction)} · transport 传输: {e(m.transport)} · '
                f'schema 结构: <a href="schemas/{e(m.file_name)}">schemas/{e(m.file_name)}</a></p>',
                "<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in HEADERS) + "</tr>"]
        for row in rows_of(m):
            cells = _cells(row)
            out.append(f"<tr><td><code>{e(cells[0])}</code></td>"
                       + "".join(f"<td>{e(c)}</td>" for c in cells[1:]) + "</tr>")
        out.append("</table>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def expected_files() -> dict[str, str]:
    return {MD_NAME: markdown(), HTML_NAME: html_page()}


def differing_files(directory: Path) -> list[str]:
    return [name for name, text in expected_files().items()
            if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]


class Command(BaseCommand):
    help = "Write the data dictionary to docs/datadict.md and docs/datadict.html, or --check them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true",
                            help="compare with the committed files; exit 1 naming those that differ")
        parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                            help=f"the output directory (default: {DEFAULT_DIR}, from the working directory)")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"]
        if options["check"]:
            differing = differing_files(directory)
            if not differing:
                self.stdout.write(f"{directory / MD_NAME} and {directory / HTML_NAME} are up to date.")
                return
            for name in differing:
                self.stdout.write(f"  differs: {directory / name}")
            raise CommandError("the data dictionary changed: run `batchline datadict` and commit it",
                               returncode=1)
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in expected_files().items():
            (directory / name).write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {directory / MD_NAME} and {directory / HTML_NAME}.")
