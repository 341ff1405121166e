"""The directory tests talk to servers on loopback (pytest-httpserver, the
stub), which only DIRECTORY_ALLOW_PRIVATE_NETWORKS lets a call reach; the
tests of the address check turn it off where they need."""

import pytest


@pytest.fixture(autouse=True)
def directory_on_loopback(settings):
    settings.DIRECTORY_ALLOW_PRIVATE_NETWORKS = True
