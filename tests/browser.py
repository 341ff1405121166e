"""Debian's Chromium, headless, through Playwright's sync API, for the tests
marked "browser". Without Chromium they are skipped, except under CI=true,
where they fail: CI must run them."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# language → (the browser's locale, its Accept-Language)
LANGUAGES = {"en": ("en-US", "en"), "ru": ("ru-RU", "ru-RU,ru")}
# axe-core from the npm registry (npm pack axe-core@4.14.1; its sri-history.json
# gives this file's sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw=).
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
DOCS = Path(__file__).resolve().parents[1] / "docs"
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium_page(
    monkeypatch: pytest.MonkeyPatch,
    *,
    language: str = "en",
    viewport: dict | None = None,
    bypass_csp: bool = False,
) -> Iterator[Page]:
    """A fresh page in its own browser, asking for pages in ``language``.
    ``bypass_csp`` lets a test inject a script of its own (axe-core) into
    pages whose Content-Security-Policy allows only the panel's files."""
    if not os.path.exists(CHROMIUM):
        message = f"Debian's Chromium is not installed at {CHROMIUM}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    locale, accept_language = LANGUAGES[language]
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale=locale,
            extra_http_headers={"Accept-Language": accept_language},
            viewport=viewport or {"width": 1280, "height": 900},
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(10_000)
        yield context.new_page()
        # The test's ORM calls, made while Playwright's event loop runs in this
        # thread, had a database connection of their own (Django keeps one per
        # async context): close it, or it outlives the test database.
        connections.close_all()
        context.close()
        browser.close()


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's findings on the page as it stands (all its default rules:
    WCAG 2.x A and AA, colour contrast among them, and best practices), those
    of the given impacts, each as rule id, impact, help and the offending
    elements. The page's context needs ``bypass_csp``."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [
                {"target": node["target"], "summary": node.get("failureSummary", "")}
                for node in violation["nodes"]
            ],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]


def describe(violations: list[dict]) -> str:
    """The violations for an assertion message."""
    return json.dumps(violations, ensure_ascii=False, indent=1)


def page_screenshot(page: Page, name: str) -> Path:
    """A picture of the whole page for docs/ at the window's width: the
    window is made as tall as the page first, so that a sticky bar sits
    where it ends up rather than across the middle; then restored. The same
    page gives the same picture (no hover left over), so that a test run
    leaves docs/ unchanged."""
    size = page.viewport_size
    page.mouse.move(0, 0)  # no button left hovered by the last click
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    path = DOCS / name
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
