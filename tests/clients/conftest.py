"""Fixtures of the directory (autofill) tests."""

import pytest
from django.core.cache import cache

from clients.directory_stub import start_stub


@pytest.fixture
def empty_cache():
    """The directory's answers are cached: each test starts and ends without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stub():
    """The bundled stand-in directory (manage.py directory_stub) on loopback."""
    server = start_stub()
    yield server
    server.shutdown()
    server.server_close()
