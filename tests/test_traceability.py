"""The traceability plugin (tests/plugins/traceability.py) run on a tiny suite of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).parent  # holds the `plugins` package

REQUIREMENTS = """\
# Requirement IDs

## Audit trail (AT)
- AT-01 Every change is recorded.
- AT-02 Entries cannot be changed.
- AT-03 Entries are sealed | verified.
"""

SUITE = """\
import pytest

@pytest.mark.req("AT-01")
def test_records_a_change():
    pass

@pytest.mark.req("AT-01", "AT-02")
def test_refuses_an_update():
    assert False

@pytest.mark.req("ZZ-99")
def test_with_an_unknown_id():
    pass

def test_without_requirement():
    pass
"""


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *extra: str) -> str:
    pytester.makefile(".md", REQUIREMENTS=REQUIREMENTS)
    pytester.makepyfile(test_tiny=SUITE)
    monkeypatch.setenv("PYTHONPATH", str(PLUGIN_DIR))
    result = pytester.runpytest_subprocess(
        "-p", "plugins.traceability", "-p", "no:django", "-p", "no:cacheprovider",
        "--traceability=out/matrix.md", "--requirements=REQUIREMENTS.md", *extra,
    )
    result.assert_outcomes(passed=3, failed=1)
    return (pytester.path / "out" / "matrix.md").read_text(encoding="utf-8")


def row(matrix: str, req_id: str) -> str:
    return next(line for line in matrix.splitlines() if line.startswith(f"| **{req_id}**"))


@pytest.mark.req("VA-01")
def test_matrix_lists_each_requirement_with_its_tests_and_their_results(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = run_suite(pytester, monkeypatch)
    at01 = row(matrix, "AT-01")
    assert "Every change is recorded." in at01
    assert "`test_tiny.py::test_records_a_change` passed" in at01
    assert "`test_tiny.py::test_refuses_an_update` failed" in at01
    assert "**FAIL**" in at01
    assert "`test_tiny.py::test_refuses_an_update` failed" in row(matrix, "AT-02")


@pytest.mark.req("VA-01")
def test_matrix_marks_a_requirement_without_tests_as_no_test_yet(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = run_suite(pytester, monkeypatch)
    assert "**no test yet**" in row(matrix, "AT-03")
    assert "sealed \\| verified" in row(matrix, "AT-03")  # a | in the text does not break the table


@pytest.mark.req("VA-01")
def test_matrix_lists_ids_unknown_to_the_requirements_apart(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = run_suite(pytester, monkeypatch)
    unknown_section = matrix.split("## Ids not in REQUIREMENTS.md", 1)[1]
    assert "`test_tiny.py::test_with_an_unknown_id` passed" in row(unknown_section, "ZZ-99")
    assert "test_without_requirement" not in matrix


@pytest.mark.req("VA-01")
def test_matrix_under_xdist_holds_the_same_rows_as_a_serial_run(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = run_suite(pytester, monkeypatch, "-p", "no:xdist")
    parallel = run_suite(pytester, monkeypatch, "-n", "2")
    rows = [line for line in serial.splitlines() if line.startswith("| **")]
    assert rows
    assert rows == [line for line in parallel.splitlines() if line.startswith("| **")]
