"""Issue 13 point 6: the OpenAPI documents describe what the services send. Read from the apps
themselves (no database needed to render a schema); schemathesis then holds the services to them
(tests/fuzz/test_contract_schemathesis.py)."""

from __future__ import annotations

import re
from collections import Counter

import httpx
import pytest

PROBLEM_JSON = "application/problem+json"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SERVICES = ("passport", "eligibility", "enrolment", "payment")
# What payment gateways read is plain text by their protocols, never problem+json.
PLAIN_TEXT_ANSWERS = {("/notify/alipay", "post"), ("/notify/payease", "post")}


def create(service: str):
    module = __import__(f"{service}.api.app", fromlist=["create_app"])
    return module.create_app()


@pytest.fixture(scope="module", params=SERVICES)
def document(request: pytest.FixtureRequest) -> tuple[str, dict]:
    return request.param, create(request.param).openapi()


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_has_a_typed_answer_and_chinese_words(document) -> None:
    service, doc = document
    untyped, english = [], []
    for path, method, operation in operations(doc):
        label = f"{service} {method.upper()} {path}"
        if not (CHINESE.search(operation.get("summary", "")) and CHINESE.search(operation.get("description", ""))):
            english.append(label)
        for status, answer in operation["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            for media, content in answer.get("content", {}).items():
                schema = content.get("schema", {})
                items = schema.get("items", {})
                typed = (
                    "$ref" in schema
                    or "$ref" in items
                    or "enum" in schema
                    or media == "application/pdf"
                    or (media == "text/csv" and schema.get("type") == "string")
                )
                if not typed:
                    untyped.append(f"{label} {status} {media}: {schema}")
    assert not untyped, untyped
    assert not english, f"summary or description without Chinese: {english}"


def test_every_refusal_is_documented_as_problem_json(document) -> None:
    """Issue 13: 422 was FastAPI's HTTPValidationError in application/json; only 2xx and 422 were documented."""
    service, doc = document
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert {"code", "title", "status", "type"} <= set(schemas["Problem"]["required"])
    wrong = []
    for path, method, operation in operations(doc):
        statuses = set(operation["responses"])
        assert "503" in statuses, f"{service} {method} {path}: a database outage answers 503"
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            content = answer.get("content", {})
            if (path, method) in PLAIN_TEXT_ANSWERS and status != "413":
                ok = list(content) == ["text/plain"]
            else:
                ok = list(content) == [PROBLEM_JSON] and content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
            if not ok or not CHINESE.search(answer.get("description", "")):
                wrong.append(f"{service} {method.upper()} {path} {status}: {answer}")
        if "requestBody" in operation or operation.get("parameters"):
            assert "422" in statuses or (path, method) in PLAIN_TEXT_ANSWERS, f"{service} {method} {path}: 422 undocumented"
    assert not wrong, "\n".join(wrong[:20])


def test_operation_ids_are_the_route_names_and_unique(document) -> None:
    service, doc = document
    ids = Counter(operation["operationId"] for _, _, operation in operations(doc))
    assert all(count == 1 for count in ids.values()), ids
    assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in ids), ids


def _links(doc: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for _, _, operation in operations(doc):
        for answer in operation["responses"].values():
            for link in answer.get("links", {}).values():
                found.setdefault(operation["operationId"], set()).add(link["operationId"])
    return found


def test_main_flows_are_linked() -> None:
    """Register → log in, query → save, enrol → (pay) → order → checkout, as OpenAPI links."""
    links = {service: _links(create(service).openapi()) for service in SERVICES}
    assert "log_in" in links["passport"]["register"]
    assert "save" in links["eligibility"]["query"]
    assert {"cancel", "registration"} <= links["enrolment"]["enrol_written"]
    assert {"checkout", "get"} <= links["payment"]["create"]
    for service, found in links.items():
        ids = {operation["operationId"] for _, _, operation in operations(create(service).openapi())}
        assert set().union(*found.values()) <= ids, f"{service}: a link names an unknown operation"


def test_enums_are_enums_and_fields_are_bounded() -> None:
    eligibility, passport, enrolment = (create(s).openapi()["components"]["schemas"] for s in ("eligibility", "passport", "enrolment"))
    assert set(eligibility["IdType"]["enum"]) >= {"resident_id_card", "macao_id"}
    assert {"$ref": "#/components/schemas/IdType"} in passport["ProfileFields"]["properties"]["id_type"]["anyOf"]
    assert set(eligibility["ReviewStatus"]["enum"]) == {"pending", "approved", "rejected"}
    written = enrolment["WrittenChoice"]["properties"]["subject_codes"]
    assert set(written["items"]["enum"]) >= {"1", "2", "F", "S"} and written["maxItems"] == 2
    name = eligibility["Identity"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, 60, r"\S")


async def test_405_names_every_method_of_the_path_and_preview_is_not_an_order_id() -> None:
    """Issue 13: `GET /orders/preview` was answered by `GET /orders/{order_id}`; 405s named only
    the first route's method (or FastAPI answered 404 for paths of an included router)."""
    for service, method, path, allowed in (
        ("payment", "GET", "/orders/preview", "POST"),
        ("payment", "PATCH", "/orders", "POST"),
        ("eligibility", "PATCH", "/cet6-review", "DELETE, GET, POST, PUT"),
        ("enrolment", "PUT", "/ops/news", "GET, POST"),
    ):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(service)), base_url="http://cet.test") as client:
            response = await client.request(method, path)
        assert response.status_code == 405, (service, path, response.text)
        assert response.headers["allow"] == allowed
        assert response.headers["content-type"].startswith(PROBLEM_JSON) and response.json()["code"] == "method_not_allowed"
