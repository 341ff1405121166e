"""Schemathesis against the served OpenAPI document, in process (the WSGI
application, the test database): every operation with data that fits the
schema and data that does not, checked for no 5xx, documented status codes
and content types, and answers that match their schemas.

CI runs a small budget (SCHEMATHESIS_MAX_EXAMPLES, 10 per operation and
mode); docs/api.md records a full run of over 5,000 requests."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import api_token_create
from tests.conftest import make_client, make_reseller_rules

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
REQUESTS = {"count": 0}


@pytest.fixture(scope="module", autouse=True)
def report_requests():
    """How many requests the run sent (docs/api.md records a full run)."""
    yield
    print(f"\nschemathesis: {REQUESTS['count']} requests, every check passed")


@pytest.fixture
def keep_the_test_connection():
    """Django's WSGI handler closes the database connection after each
    request; inside a test that would close the test's transaction. Django's
    own test client unhooks the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, irina, root_reseller, client_created_handler, keep_the_test_connection):
    """A reseller with types, rules, attributes and clients, and a token
    whose limits do not get in the way of thousands of requests."""
    settings.API_TOKEN_RATE_LIMIT = 10**9
    settings.API_AUTH_FAILURE_LIMIT = 10**9
    rules = make_reseller_rules(root_reseller)
    clients = [make_client(reseller=root_reseller, rules=rules) for _ in range(3)]
    return {
        "token": api_token_create(manager=irina, name="schemathesis")[1],
        "reseller_id": root_reseller.pk,
        "account_id": clients[0].pk,
    }


# The document is built from the code (no database needed), so it is read
# once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/v3/openapi.json", get_wsgi_application())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=os.environ.get("SCHEMATHESIS_RANDOM") is None,
)


@schema.parametrize()
def test_api(case, world):
    # Data that fits the schema is sent to the reseller that exists (random
    # IDs would mostly meet 404); data that does not keeps what was generated.
    if case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE:
        if "reseller_id" in (case.path_parameters or {}):
            case.path_parameters["reseller_id"] = world["reseller_id"]
        if "account_id" in (case.path_parameters or {}):
            case.path_parameters["account_id"] = world["account_id"]
    headers = {"X-Api-Token": world["token"]}
    case.call_and_validate(headers=headers, checks=CHECKS)
    REQUESTS["count"] += 1
