"""The OpenAPI document drives a fuzzing run over the whole API (schemathesis).

A real ``events serve --demo`` on loopback answers generated requests for every documented
operation, valid and invalid alike; every answer must be no 5xx and must match the
document: status code, content type, headers and body schema, and data the document says is
invalid must be refused. (Data the schema allows may still break a rule JSON Schema cannot
say, such as "access needs require consent", so a documented 422 for schema-valid data is
not a finding: ``positive_data_acceptance`` is left out.) A failure names the
operation and prints a request to reproduce it.

(schemathesis's own pytest plugin does not run under pytest 9, so the operations are
driven here with its Python API and Hypothesis directly.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from tests.browser.harness import Server, running_server

EXAMPLES_PER_OPERATION = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with running_server(folder) as running:
        yield running


def test_every_operation_answers_without_5xx_and_as_documented(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.base_url + "/api/v1/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an operation it cannot read: {result}"
        operations.append(result.ok())
    assert len(operations) >= 5, "the document lists the API's operations"
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=server.base_url, excluded_checks=[positive_data_acceptance]
            )

        try:
            fuzz()
        except Exception as exc:  # collected, so one run reports every operation's finding
            failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)
