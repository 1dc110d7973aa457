"""Issue 13 point 9: Schemathesis' own engine (the CLI's, through its Python API over ASGI: the
services run in-process against the fuzz suite's throw-away databases) over every service and
every role, phases examples, coverage, fuzzing and stateful, with the checks the contract must
pass. 0 failures: a failure names the operation, the check and how to reproduce it.

Bounded for CI: few fuzzing examples per operation and short stateful runs (the coverage phase's
cases are deterministic and finite). The totals are printed (`-s`) for the issue's note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from fuzz_targets import SERVICES, WHO  # the folder is on the path (conftest.py)
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# Schema-valid input a business rule refuses is still a 400/422 with its own code (a wrong
# captcha, passwords that differ, an unticked box): accepted here, while `schema_matches_validation`
# below holds that valid input never gets the *structural* refusal, `invalid_request`.
# 413: the body limit (1 MB) is below what some schemas allow (10,000 campuses in one session).
POSITIVE_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "422", "429"]
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]  # schemathesis' defaults
EXCLUDED = {
    # Publication and arrangement turn generated sessions ("0", odd windows) into the shared fuzz
    # data's current exam session; they are proven by services/enrolment's own tests.
    "enrolment": [
        {"include-path": "/ops/sessions/{session_id}/publication", "enabled": False},
        {"include-path": "/ops/sessions/{session_id}/arrangement", "enabled": False},
    ],
}


# Our own validators' refusals (a window that closes before it opens, a year outside the plausible
# range set in settings): rules across fields or from settings that a JSON schema cannot state.
SEMANTIC_ERRORS = {"value_error", "assertion_error"}


@schemathesis.check
def schema_matches_validation(ctx, response, case) -> bool | None:
    """Input the schema allows is never refused by a constraint the schema could have stated
    (a length, a pattern, a type, a required member): the schema and the validator agree."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    structural = [e for e in body.get("errors") or [] if e.get("type") not in SEMANTIC_ERRORS]
    assert body.get("code") != "invalid_request" or not structural, f"schema-valid input refused as malformed: {structural}"
    return None


def config_for(headers: dict[str, str], operations: list[dict], *, max_examples: int = 4, max_steps: int = 6) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 13,
            "suppress-health-check": ["all"],
            "headers": headers,
            "generation": {"max-examples": max_examples, "database": "none", "allow-x00": False, "no-shrink": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": max_steps},
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                "positive_data_acceptance": {"enabled": True, "expected-statuses": POSITIVE_STATUSES},
                # 413: a body over the size limit is refused before it is parsed (a 10,001-campus session)
                "negative_data_rejection": {"enabled": True, "expected-statuses": [*NEGATIVE_STATUSES, "413"]},
                "schema_matches_validation": {"enabled": True},
            },
            "operations": operations,
        }
    )


def operations_for(target, who: str, intended) -> list[dict]:
    """Exclusions, and the operations not meant for `who`: answered 401/403 before any input is
    read, so a few fuzzed cases prove that (the coverage phase would only repeat it)."""
    configs = list(EXCLUDED.get(target.name, []))
    for path, item in target.schema.raw_schema["paths"].items():
        for operation in item.values():
            if who not in intended(target.name, path):
                configs.append(
                    {  # one filter only: schemathesis ORs several
                        "include-operation-id": operation["operationId"],
                        "generation": {"max-examples": 2},
                        "phases": {"coverage": {"enabled": False}},
                    }
                )
    return configs


@dataclass
class Totals:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    failures: Counter = field(default_factory=Counter)
    checked: Counter = field(default_factory=Counter)
    phases: Counter = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run(target, who: str, intended) -> Totals:
    config = config_for(target.headers[who], operations_for(target, who, intended))
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app, config=config)
    totals = Totals()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            totals.cases += len(recorder.cases)
            totals.phases[event.phase.value] += len(recorder.cases)
            if event.label:
                totals.operations.add(event.label)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    totals.checked[check.name] += 1
                    if check.status is Status.FAILURE:
                        totals.failures[check.name] += 1
                        if len(totals.details) < 30:
                            case = recorder.cases[case_id].value
                            info = check.failure_info
                            totals.details.append(
                                f"{check.name}: {case.method} {case.formatted_path} -> {info.failure.title if info else ''}: "
                                f"{(info.failure.message if info else '')[:300]}\n    {info.code_sample if info else ''}"[:900]
                            )
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            totals.errors.append(
                f"{type(event).__name__}: {getattr(event, 'label', '')}: {str(getattr(event, 'value', getattr(event, 'exception', '')))[:300]}"
            )
    return totals


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_contract_failures(service: str, who: str, request: pytest.FixtureRequest, intended) -> None:
    """Every operation, as every role: the answers are what the OpenAPI document promises."""
    target = request.getfixturevalue(f"{service}_target")
    totals = run(target, who, intended)
    by_check = {name: totals.failures.get(name, 0) for name in (*CHECKS, "schema_matches_validation")}
    print(
        f"\nschemathesis {service} as {who}: {len(totals.operations)} operations, {totals.cases} cases, failures {by_check}; "
        f"cases by phase {dict(totals.phases)}; checks run {dict(totals.checked)}"
    )
    assert totals.cases > 0 and totals.operations
    assert not totals.errors, "\n".join(totals.errors[:10])
    assert not totals.failures, f"{sum(totals.failures.values())} failures {dict(totals.failures)}:\n" + "\n".join(totals.details)
