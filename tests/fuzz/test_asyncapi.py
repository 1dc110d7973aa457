"""Issue 13 point 8: each service serves an AsyncAPI 3 document of the events it sends and receives,
generated from the pydantic contracts; it is valid against the official AsyncAPI 3.0.0 JSON Schema
(vendored under tests/contract/asyncapi/) and every contract appears, sent by its topic's producer
(deploy/topics.toml) and received by exactly the services whose consumers handle it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from fuzz_targets import SERVICES  # the folder is on the path (conftest.py)
from jsonschema import Draft7Validator

from cet_shared.events import contracts  # noqa: F401 - registers every contract
from cet_shared.events.envelope import event_types

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests/contract/asyncapi/asyncapi-3.0.0.schema.json").read_text(encoding="utf-8"))
PRODUCERS = {t["name"]: t["producer"] for t in tomllib.loads((ROOT / "deploy/topics.toml").read_text(encoding="utf-8"))["topic"] if "producer" in t}


def served(target) -> dict:
    with target.client() as client:
        response = client.get("/asyncapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    return response.json()


def refs(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict, ref: str) -> object:
    node: object = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
    return node


@pytest.fixture(scope="module")
def documents(request: pytest.FixtureRequest) -> dict[str, dict]:
    return {service: served(request.getfixturevalue(f"{service}_target")) for service in SERVICES}


def test_each_document_is_valid_asyncapi_3_and_every_reference_resolves(documents) -> None:
    validator = Draft7Validator(SCHEMA)
    for service, document in documents.items():
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        assert not errors, f"{service}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
        assert document["asyncapi"] == "3.0.0"
        for ref in refs(document):
            assert ref.startswith("#/"), ref
            resolve(document, ref)  # KeyError names a dangling reference


def _actions(document: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"send": set(), "receive": set()}
    for operation in document["operations"].values():
        for message in operation["messages"]:
            found[operation["action"]].add(message["$ref"].rsplit("/", 1)[-1])
    return found


def test_every_contract_appears_sent_by_its_producer_and_received_by_its_consumers(documents, request) -> None:
    from cet_shared.asyncapi import consumed_by

    catalogue = {cls.event_type: cls for cls in event_types().values()}
    sent_anywhere: set[str] = set()
    for service, document in documents.items():
        actions = _actions(document)
        assert actions["send"] == {name for name, cls in catalogue.items() if PRODUCERS[cls.topic] == service}, service
        target = request.getfixturevalue(f"{service}_target")
        module = __import__(f"{service}.events.consumers", fromlist=["build_consumers"])
        handled = {cls.event_type for cls in consumed_by(module.build_consumers(target.ctx))}
        assert actions["receive"] == handled, service
        for name in actions["send"] | actions["receive"]:
            cls = catalogue[name]
            message = document["components"]["messages"][name]
            envelope = resolve(document, message["payload"]["$ref"])
            assert envelope["properties"]["payload"] == {"$ref": f"#/components/schemas/{cls.__name__}"}
            assert set(document["components"]["schemas"][cls.__name__]["properties"]) == set(cls.model_fields), name
            assert document["channels"][cls.topic]["address"] == cls.topic
        sent_anywhere |= actions["send"]
    assert sent_anywhere == set(catalogue), f"contracts nobody sends: {set(catalogue) - sent_anywhere}"
    assert "SessionsRevoked" in _actions(documents["payment"])["receive"]
