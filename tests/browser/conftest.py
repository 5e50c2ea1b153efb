"""Browser tests: Playwright driving the system Chromium (Debian's package, installed by .ci/run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BATCHLINE_CHROMIUM", "/usr/bin/chromium")
# The machines have no network: without these Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _live_server_helper(request: pytest.FixtureRequest) -> Iterator[None]:
    """Replaces pytest-django's helper of the same name: that one flushes through transactional_db,
    which the append-only triggers refuse; committed_db lifts them for the owner-level flush only."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("committed_db")
    server = request.getfixturevalue("live_server")
    server._live_server_modified_settings.enable()
    yield
    server._live_server_modified_settings.disable()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are plain
    # synchronous code and safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """new_page(locale="zh-CN", viewport=TABLET) → a page in a fresh browser context."""
    contexts: list[Any] = []

    def make(locale: str = "zh-CN", viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(locale=locale, viewport=viewport or TABLET)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
