"""Fixtures of the directory (autofill) tests.

The directory tests talk to servers on loopback (pytest-httpserver, the
stub), which only DIRECTORY_ALLOW_PRIVATE_NETWORKS lets a call reach; the
tests of the address check turn it off where they need."""

import pytest
from django.core.cache import cache

from clients.directory_stub import start_stub


@pytest.fixture(autouse=True)
def directory_on_loopback(settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = True


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
