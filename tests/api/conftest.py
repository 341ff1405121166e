"""Helpers of the API tests: a token per persona and a test client that
speaks JSON:API."""

import json

import pytest
from django.test import Client as HttpClient

from api.services import api_token_create


class ApiClient:
    """Django's test client with the token header and JSON:API bodies."""

    def __init__(self, token: str | None, *, language: str = "en") -> None:
        self.http = HttpClient()
        self.headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if token is not None:
            self.headers["HTTP_X_API_TOKEN"] = token

    def get(self, path: str, **extra):
        return self.http.get(path, **{**self.headers, **extra})

    def post(self, path: str, body, *, content_type="application/vnd.api+json", **extra):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.http.post(
            path, data=data, content_type=content_type, **{**self.headers, **extra}
        )


def token_for(manager, name: str = "test") -> str:
    return api_token_create(manager=manager, name=name)[1]


@pytest.fixture
def irina_api(irina) -> ApiClient:
    return ApiClient(token_for(irina))


@pytest.fixture
def petr_api(petr) -> ApiClient:
    return ApiClient(token_for(petr))


def codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def pointers(response) -> dict[str, str]:
    """code → pointer of each error that points into the body."""
    return {
        error["source"]["pointer"]: error["code"]
        for error in response.json()["errors"]
        if "pointer" in error.get("source", {})
    }
