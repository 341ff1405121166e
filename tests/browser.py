"""Debian's Chromium, headless, through Playwright's sync API, for the tests
marked "browser". Without Chromium they are skipped, except under CI=true,
where they fail: CI must run them."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def chromium_page(monkeypatch: pytest.MonkeyPatch, *, language: str = "en") -> Iterator[Page]:
    """A fresh page in its own browser, asking for pages in ``language``."""
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
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        yield context.new_page()
        # The test's ORM calls, made while Playwright's event loop runs in this
        # thread, had a database connection of their own (Django keeps one per
        # async context): close it, or it outlives the test database.
        connections.close_all()
        context.close()
        browser.close()
