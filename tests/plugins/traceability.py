"""pytest plugin: the requirement traceability matrix (VA-01).

Tests that prove a requirement carry its id: `@pytest.mark.req("AT-03")`. With
`--traceability=PATH` this plugin writes a Markdown matrix to PATH: every requirement of
REQUIREMENTS.md, the tests that carry its id, and their result in this run; a requirement that no
test carries is listed as "no test yet", an id that REQUIREMENTS.md does not know is listed apart.

Under pytest-xdist the tests run in worker processes and only their reports reach the controller.
So each worker puts a test's requirement ids into its `user_properties` (which travel with every
report), and the controller, which sees every report through `pytest_runtest_logreport`, builds
the matrix and writes it once at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import pytest

PROPERTY = "req"
_REQUIREMENT_LINE = re.compile(r"^- ([A-Z][A-Z0-9]*-\d+)\s+(.*\S)\s*$")
_SECTION_LINE = re.compile(r"^##\s+(.*\S)\s*$")


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str
    section: str


def parse_requirements(text: str) -> list[Requirement]:
    """The `- ID text` lines of REQUIREMENTS.md, each with the `## section` it stands under."""
    section = ""
    found: list[Requirement] = []
    for line in text.splitlines():
        heading = _SECTION_LINE.match(line)
        if heading:
            section = heading.group(1)
            continue
        item = _REQUIREMENT_LINE.match(line)
        if item:
            found.append(Requirement(item.group(1), item.group(2), section))
    return found


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for marker in item.iter_markers(PROPERTY):
        for value in marker.args:
            for req_id in str(value).replace(",", " ").split():
                if req_id not in ids:
                    ids.append(req_id)
    return ids


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("traceability", "requirement traceability matrix (VA-01)")
    group.addoption("--traceability", metavar="PATH", default=None,
                    help="write the requirement traceability matrix (Markdown) to PATH")
    group.addoption("--requirements", metavar="PATH", default=None,
                    help="the requirement list (default: ../shared/REQUIREMENTS.md beside the repository)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "req(id, ...): the REQUIREMENTS.md requirement(s) this test proves")
    path = config.getoption("traceability")
    # Only the process that sees every report writes: the controller under xdist, else the only one.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(MatrixWriter(config, Path(path)), "traceability-matrix-writer")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Attach each test's requirement ids to its reports (runs where the tests are collected)."""
    for item in items:
        ids = requirement_ids(item)
        if ids:
            item.user_properties.append((PROPERTY, " ".join(ids)))


@dataclass
class TracedTest:
    nodeid: str
    requirements: list[str]
    outcome: str = "not run"
    phases: dict[str, str] = field(default_factory=dict)


def _phase_outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome


def _overall(phases: dict[str, str]) -> str:
    setup, call, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    if setup == "failed" or teardown == "failed":
        return "error"
    if setup in ("skipped", "xfailed"):
        return setup
    return call or "not run"


class MatrixWriter:
    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.results: dict[str, TracedTest] = {}
        self.started = dt.datetime.now(dt.UTC)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ids = [value for name, value in report.user_properties if name == PROPERTY]
        if not ids:
            return
        result = self.results.setdefault(report.nodeid, TracedTest(report.nodeid, str(ids[0]).split()))
        result.phases[report.when] = _phase_outcome(report)
        result.outcome = _overall(result.phases)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        requirements = self._requirements()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(render(requirements, list(self.results.values()), started=self.started,
                                    database=_database_label(), source=self._requirements_path()),
                             encoding="utf-8")

    def _requirements_path(self) -> Path | None:
        given = self.config.getoption("requirements")
        path = Path(given) if given else self.config.rootpath.parent / "shared" / "REQUIREMENTS.md"
        return path if path.is_file() else None

    def _requirements(self) -> list[Requirement]:
        path = self._requirements_path()
        return parse_requirements(path.read_text(encoding="utf-8")) if path else []


def _database_label() -> str:
    url = os.environ.get("BATCHLINE_DATABASE_URL", "")
    return "PostgreSQL" if url.startswith(("postgres", "postgresql")) else "SQLite"


_PASSING = {"passed"}  # an expected failure proves nothing
_FAILING = {"failed", "error", "xpassed"}


def verdict(outcomes: list[str]) -> str:
    """One word per requirement: FAIL if any test failed, PASS if all that ran passed."""
    if not outcomes:
        return "no test yet"
    if any(o in _FAILING for o in outcomes):
        return "FAIL"
    ran = [o for o in outcomes if o in _PASSING]
    if ran:
        return "PASS"
    return "skipped"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(requirements: list[Requirement], results: list[TracedTest], *, started: dt.datetime,
           database: str, source: Path | None) -> str:
    by_requirement: dict[str, list[TracedTest]] = defaultdict(list)
    for result in sorted(results, key=lambda r: r.nodeid):
        for req_id in result.requirements:
            by_requirement[req_id].append(result)
    known = {r.id for r in requirements}
    unknown = sorted(set(by_requirement) - known)
    verdicts = {r.id: verdict([t.outcome for t in by_requirement.get(r.id, [])]) for r in requirements}

    lines = [
        "# Requirements traceability matrix",
        "",
        "Generated by the test suite (`make test`, plugin `tests/plugins/traceability.py`) from the",
        "`@pytest.mark.req(...)` markers; `make matrix` copies the last run here.",
        "",
        f"- Run: {started:%Y-%m-%d %H:%M} UTC, database: {database}",
        f"- Requirements: {len(requirements)}"
        + (f" (from {source.name})" if source else " (REQUIREMENTS.md not found: ids from the tests only)"),
        f"- Covered by at least one test: {sum(1 for v in verdicts.values() if v != 'no test yet')}",
        f"- Passing: {sum(1 for v in verdicts.values() if v == 'PASS')}, "
        f"failing: {sum(1 for v in verdicts.values() if v == 'FAIL')}, "
        f"no test yet: {sum(1 for v in verdicts.values() if v == 'no test yet')}",
        f"- Tests carrying a requirement id: {len(results)}",
        "",
    ]
    for section, group in groupby(requirements, key=lambda r: r.section):
        lines += [f"## {section or 'Requirements'}", "", "| Requirement | Result | Tests |", "|---|---|---|"]
        for requirement in group:
            lines.append(_row(requirement.id, requirement.text, verdicts[requirement.id],
                              by_requirement.get(requirement.id, [])))
        lines.append("")
    if unknown:
        title = "Ids not in REQUIREMENTS.md" if requirements else "Requirements"
        lines += [f"## {title}", "", "| Requirement | Result | Tests |", "|---|---|---|"]
        for req_id in unknown:
            tests = by_requirement[req_id]
            lines.append(_row(req_id, "", verdict([t.outcome for t in tests]), tests))
        lines.append("")
    return "\n".join(lines)


def _row(req_id: str, text: str, result: str, tests: list[TracedTest]) -> str:
    title = f"**{req_id}** {_cell(text)}".strip()
    shown = f"**{result}**" if result in ("FAIL", "no test yet") else result
    listed = "<br>".join(f"`{_cell(t.nodeid)}` {t.outcome}" for t in tests) or "—"
    return f"| {title} | {shown} | {listed} |"
