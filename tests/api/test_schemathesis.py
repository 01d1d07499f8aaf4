"""The OpenAPI schema tells the truth: schemathesis generates requests from ``/openapi.json`` (from the examples,
boundary values, valid and invalid data) and sends them in-process to the API over the toy knowledge base as an
admin, on SQLite and on PostgreSQL, checking that no answer is a 5xx and that each status code, content type and
body is one the schema documents for that operation.

Bounded for CI (about a minute for both databases on 2 cores): 15 fuzzed examples per operation, no deadline,
derandomized so that a failure reproduces; it prints the request as a curl command. Each operation stops at its
first failure; ``scripts/fuzz_api.py`` fuzzes harder (``--examples 300``) and counts every failure.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from fastapi.testclient import TestClient
from registry.conftest import make_patient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from raredx.registry import SYSTEM, Registry

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": 15, "deterministic": True, "database": "none"},  # deadline: none already
})


@pytest.fixture
def api_schema(client: TestClient, registry: Registry) -> schemathesis.BaseSchema:
    for i in range(1, 4):  # patients 1..3 exist, so generated ids sometimes hit one
        registry.create_patient(SYSTEM, make_patient(f"RDX-{i}"))
    return schemathesis.openapi.from_asgi("/openapi.json", client.app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_matches_its_schema(case: schemathesis.Case, auth: Callable[[str], dict[str, str]]) -> None:
    case.call_and_validate(headers=auth("admin"), checks=CHECKS)
