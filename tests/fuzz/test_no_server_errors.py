"""Bad input gets a clear error and never a 5xx: passport, eligibility, payment and enrolment, fuzzed from their
own OpenAPI schemas (every operation, anonymous and with each role's token), plus the inputs a
generator does not make: broken JSON, wrong content types, huge and deeply nested bodies, bytes
that are not UTF-8, odd query strings and path parameters, and garbage sent to the gateway
notification endpoints, which must answer what the gateway expects (`fail` / `error`)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fuzz_targets import SERVICES, WHO  # the folder is on the path (conftest.py)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

PROBLEM_JSON = "application/problem+json"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
# What each gateway reads as "stop" / "try again": nothing else may reach it.
GATEWAY_ANSWERS = {"/notify/alipay": {"success", "fail"}, "/notify/payease": {"sent", "error"}}


def assert_clear_answer(path: str, response) -> None:
    """No 5xx; a 4xx is problem+json with a stable snake_case `code` and a Chinese `title`."""
    request = f"{response.request.method} {response.request.url}"
    assert response.status_code < 500, f"{request} -> {response.status_code}: {response.text[:500]}"
    if path in GATEWAY_ANSWERS and response.status_code == 200:
        assert response.text in GATEWAY_ANSWERS[path], f"{request} -> {response.text[:200]!r}"
        return
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", "")
        if isinstance(content_type, list):  # schemathesis' responses keep every value of a header
            content_type = content_type[0] if content_type else ""
        assert content_type.startswith(PROBLEM_JSON), f"{request} -> {response.status_code} {content_type}: {response.text[:300]}"
        body = response.json()
        assert isinstance(body.get("code"), str) and SNAKE_CASE.match(body["code"]), f"{request} -> {body}"
        assert body.get("status") == response.status_code, f"{request} -> {body}"
        assert isinstance(body.get("title"), str) and CHINESE.search(body["title"]), f"{request} -> {body}"


# Bounded and reproducible: the same cases on every run. An operation gets MAX_EXAMPLES per
# generation mode from the identities it is meant for, and a few from the others (401 / 403).
MAX_EXAMPLES = 10
OTHERS_EXAMPLES = 2


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("service", SERVICES)
def test_fuzzed_requests_get_clear_answers(service: str, who: str, request: pytest.FixtureRequest, intended) -> None:
    """Every operation of the service's schema, with valid and invalid generated input, as `who`."""
    target = request.getfixturevalue(f"{service}_target")
    operations = [result.ok() for result in target.schema.get_all_operations()]
    assert len(operations) >= 5, operations
    for operation in operations:
        examples = MAX_EXAMPLES if who in intended(service, operation.path) else OTHERS_EXAMPLES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @_settings(examples)
            @given(case=operation.as_strategy(mode, headers=target.headers[who] or None))
            def run(case) -> None:
                response = case.call()
                assert_clear_answer(case.path, response)
                if 200 <= response.status_code < 300:
                    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])

            try:
                run()
            except Unsatisfiable:
                # An operation without parameters or body has no invalid input to generate.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except BaseException as exc:
                exc.add_note(f"{service} as {who}: {operation.label} ({mode.value})")
                raise


# --- What generators miss ---------------------------------------------------------------------------

MB = 1_000_000


class Failures:
    """Collects every unclear answer of a hand-written sweep, so one run shows them all."""

    def __init__(self, service: str) -> None:
        self.service, self.found = service, []

    def check(self, label: str, path: str, send) -> None:
        try:
            assert_clear_answer(path, send())
        except Exception as exc:  # an AssertionError, or the app's own exception re-raised by the test client
            self.found.append(f"{self.service} {label}: {type(exc).__name__}: {str(exc)[:300]}")

    def assert_none(self) -> None:
        assert not self.found, f"{len(self.found)} unclear answers:\n" + "\n".join(self.found[:40])


def _operations(target, predicate=lambda path, method, spec: True) -> list[tuple[str, str, dict]]:
    document = target.schema.raw_schema
    return [
        (path, method.upper(), spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in ("get", "post", "put", "delete", "patch") and predicate(path, method, spec)
    ]


def _json_body(path: str, method: str, spec: dict) -> bool:
    return "application/json" in spec.get("requestBody", {}).get("content", {})


def _caller(service: str, path: str) -> str:
    """The identity an operation is meant for, so bad input reaches its validation, not the role check."""
    if service == "passport":
        return "candidate"
    if service == "enrolment" and path.startswith("/ops"):
        return "ops"
    for prefix, who in (("/teacher", "teacher"), ("/support", "support"), ("/registry", "ops")):
        if path.startswith(prefix):
            return who
    return "candidate"


def _example_path(path: str, value: str = "00000000-0000-4000-8000-000000000000") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


BROKEN_JSON = {
    "truncated": b'{"email": "a@example.com", ',
    "not_json": b"email=a@example.com",
    "null": b"null",
    "list": b"[]",
    "number": b"12",
    "string": b'"text"',
    "bom_then_object": b"\xef\xbb\xbf{}",
    "non_utf8_bytes": b'{"name": "\xff\xfe\xc0\xaf", "email": "\xe5\xbb"}',
    "gbk_bytes": '{"name": "廖晓儿", "id_type": "居民身份证"}'.encode("gbk"),
    "nan_and_infinity": b'{"version": NaN, "accepted": Infinity, "fee_fen": -Infinity}',
    "integer_past_the_digit_limit": b'{"accepted": 1' + b"0" * 5000 + b"}",
    "deeply_nested_arrays": b"[" * 100_000 + b"]" * 100_000,
    "deeply_nested_objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested_inside_a_field": b'{"email": ' + b"[" * 2_000 + b"]" * 2_000 + b', "enrolment_ids": ' + b"[" * 2_000 + b"]" * 2_000 + b"}",
    "duplicate_keys": b'{"accepted": true, "accepted": "no", "gateway": "alipay", "gateway": 1}',
}


@pytest.mark.parametrize("service", SERVICES)
def test_broken_json_bodies_get_clear_answers(service: str, request: pytest.FixtureRequest) -> None:
    """Malformed JSON, non-UTF-8 bytes, deep nesting and huge numbers, anonymous and as the intended caller."""
    target = request.getfixturevalue(f"{service}_target")
    operations = _operations(target, _json_body)
    assert operations
    failures = Failures(service)
    with target.client() as client:
        for path, method, _ in operations:
            for who in ("anonymous", _caller(service, path)):
                for name, body in BROKEN_JSON.items():
                    headers = {**target.headers[who], "content-type": "application/json"}
                    send = lambda: client.request(method, _example_path(path), data=body, headers=headers)  # noqa: E731
                    failures.check(f"{who}: {method} {path} with {name}", path, send)
    failures.assert_none()


# Plausible values by field name, so that one odd field at a time gets past the others' validation.
PLAUSIBLE = {
    "email": "fuzz-candidate@example.com",
    "new_email": "fuzz-new@example.com",
    "password": "Cet2017-fuzz-pass",
    "confirm_password": "Cet2017-fuzz-pass",
    "old_password": "Not-the-password-1",
    "new_password": "Cet2017-fuzz-pass2",
    "captcha_token": "x",
    "captcha_answer": "K7PX",
    "token": "a" * 32,
    "phone": "13800000000",
    "id_type": "resident_id_card",
    "id_number": "330101199001010024",
    "name": "廖晓儿",
    "version": "2017-1",
    "accepted": True,
    "confirmed": True,
    "ticket_number": "993010162100101",
    "note": "核实无误",
    "new_passport_id": "0" * 32,
    "reason": "考生来电",
    "gateway": "payease",
    "bank": "icbc",
    "enrolment_ids": ["00000000-0000-4000-8000-000000000000"],
}
# Enrolment's fields (its ops documents reuse common names such as "name" and "title").
PLAUSIBLE_BY_SERVICE = {
    "enrolment": PLAUSIBLE
    | {
        "subject_codes": ["1"],
        "offering_id": "00000000-0000-4000-8000-000000000000",
        "capacity": 10,
        "locked": True,
        "name": "2017年上半年CET考试",
        "school_code": "99301",
        "province_code": "99",
        "campus_code": "993010",
        "school_name": "测试学校机构01",
        "campus_name": "测试校区机构001",
        "title": "通告",
        "body": "正文",
        "scope": "registration_notes",
        "year": 2017,
        "half": 1,
        "registration": {"opens_at": "2017-03-01T00:00:00Z", "closes_at": "2017-03-11T00:00:00Z"},
    },
}
ODD_STRINGS = {
    "nul": "ab\x00cd",
    "lone_surrogate": "ab\ud800cd",
    "control_characters": "\x01\x07\x1b[31m\x7f",
    "bidi_override": "\u202e廖晓儿\u202c",
    "emoji": "😀" * 8,
    "sql": "' OR 1=1 --",
    "format_string": "%s%n%x{0}",
    "very_long": "9" * 100_000,
    "blank": "   ",
}


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _string_fields(document: dict, spec: dict, service: str = "") -> tuple[dict, list[str]]:
    body_schema = _resolve(document, spec["requestBody"]["content"]["application/json"]["schema"])
    properties = body_schema.get("properties", {})
    plausible = PLAUSIBLE_BY_SERVICE.get(service, PLAUSIBLE)
    body = {name: plausible.get(name, "x") for name in properties}
    strings = [name for name, prop in properties.items() if "string" in json.dumps(_resolve(document, prop)) and "uuid" not in json.dumps(prop)]
    return body, strings


@pytest.mark.parametrize("service", SERVICES)
def test_odd_strings_in_every_field_get_clear_answers(service: str, request: pytest.FixtureRequest) -> None:
    """NUL, lone surrogates, control characters, huge strings… in each string field, one at a time."""
    target = request.getfixturevalue(f"{service}_target")
    document = target.schema.raw_schema
    operations = _operations(target, _json_body)
    failures = Failures(service)
    with target.client() as client:
        for path, method, spec in operations:
            body, strings = _string_fields(document, spec, service)
            for field in strings:
                for name, odd in ODD_STRINGS.items():
                    for who in (_caller(service, path),):
                        content = json.dumps({**body, field: odd}).encode()  # ensure_ascii: surrogates travel escaped
                        headers = {**target.headers[who], "content-type": "application/json"}
                        send = lambda: client.request(method, _example_path(path), data=content, headers=headers)  # noqa: E731
                        failures.check(f"{who}: {method} {path} with {name} in {field}", path, send)
    failures.assert_none()


WRONG_CONTENT_TYPES = (
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",  # no boundary
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/json; charset=gbk",
    "application/json; charset=nonsense",
    "application/json;;;===",
    "image/png",
    "\u00e9\u00e8/\u00e0",  # latin-1 bytes on the wire
)


@pytest.mark.parametrize("service", SERVICES)
def test_wrong_content_types_get_clear_answers(service: str, request: pytest.FixtureRequest) -> None:
    """A JSON body under every other content type (or none), to every operation that takes a body."""
    target = request.getfixturevalue(f"{service}_target")
    document = target.schema.raw_schema
    failures = Failures(service)
    with target.client() as client:
        for path, method, spec in _operations(target, lambda p, m, spec: m in ("post", "put")):
            body = json.dumps(_string_fields(document, spec, service)[0] if _json_body(path, method, spec) else {"a": 1}).encode()
            for content_type in WRONG_CONTENT_TYPES:
                headers = dict(target.headers[_caller(service, path)])
                if content_type is not None:
                    headers["content-type"] = content_type
                send = lambda: client.request(method, _example_path(path), data=body, headers=headers)  # noqa: E731
                failures.check(f"{method} {path} as {content_type!r}", path, send)
    failures.assert_none()


def _chunks(total: int, size: int = 64 * 1024):
    """A body sent chunked, without a Content-Length, as a client streaming an upload does."""
    sent = 0
    while sent < total:
        yield b"[" + b"1," * (size // 2 - 1) + b"1]" if sent == 0 else b" " * size
        sent += size


@pytest.mark.parametrize("service", SERVICES)
def test_bodies_over_a_megabyte_are_refused_with_413(service: str, request: pytest.FixtureRequest) -> None:
    """> 1 MB to any JSON operation: 413 payload_too_large, declared or streamed (chunked)."""
    target = request.getfixturevalue(f"{service}_target")
    big = b'{"email": "' + b"a" * (MB + 10) + b'"}'
    failures = Failures(service)
    with target.client() as client:
        for path, method, _ in _operations(target, _json_body):
            headers = {**target.headers[_caller(service, path)], "content-type": "application/json"}
            for label, body in (("declared", big), ("chunked", lambda: _chunks(MB + 64 * 1024))):

                def send():
                    response = client.request(method, _example_path(path), data=body() if callable(body) else body, headers=headers)
                    assert response.status_code == 413, f"{response.status_code}: {response.text[:200]}"
                    assert response.json()["code"] == "payload_too_large"
                    return response

                failures.check(f"{method} {path} {label}", path, send)
    failures.assert_none()


ODD_QUERIES = (
    "status=bogus",
    "status=",
    "status=%00",
    "status=%FF%FE",
    "status=%E5%BE",
    "status=1&status=2",
    "status[]=pending",
    "status[status]=x",
    "status=" + "x" * 5000,
    "=&&=&%%",
    "status=pending&unknown=1",
    "a=%ZZ",
    "%=%",
    "status=%C0%AF",
)
ODD_PATH_VALUES = (
    "not-a-uuid",
    "0",
    "-1",
    "1e9",
    "true",
    "null",
    "%00",
    "%FF",
    "..%2F..%2Fetc",
    "%E8%AE%A2%E5%8D%95",
    "x" * 3000,
    "00000000-0000-0000-0000-00000000000g",
    "{00000000-0000-4000-8000-000000000000}",
    "urn:uuid:00000000-0000-4000-8000-000000000000",
    "00000000000040008000000000000000",
    " 00000000-0000-4000-8000-000000000000",
)


@pytest.mark.parametrize("service", SERVICES)
def test_odd_query_strings_and_path_parameters_get_clear_answers(service: str, request: pytest.FixtureRequest) -> None:
    """Odd query values on every operation; path parameters that are not UUIDs where one is expected."""
    target = request.getfixturevalue(f"{service}_target")
    failures = Failures(service)
    with target.client() as client:
        for path, method, spec in _operations(target):
            headers = target.headers[_caller(service, path)]
            body = json.dumps(_string_fields(target.schema.raw_schema, spec, service)[0]).encode() if _json_body(path, method, spec) else None
            if body is not None:
                headers = {**headers, "content-type": "application/json"}
            for query in ODD_QUERIES:
                send = lambda: client.request(method, f"{_example_path(path)}?{query}", data=body, headers=headers)  # noqa: E731
                failures.check(f"{method} {path}?{query[:40]}", path, send)
            if "{" in path:
                for value in ODD_PATH_VALUES:
                    send = lambda: client.request(method, _example_path(path, value), data=body, headers=headers)  # noqa: E731
                    failures.check(f"{method} {_example_path(path, value)[:80]}", path, send)
    failures.assert_none()


# --- The gateways' notification endpoints -----------------------------------------------------------

RETRY = {"alipay": "fail", "payease": "error"}
STOP = {"alipay": "success", "payease": "sent"}
GARBAGE_FORMS = {
    "empty": b"",
    "words": b"garbage",
    "binary": b"\xff\xfe\x00\x01\x80",
    "json": b'{"trade_status": "TRADE_SUCCESS", "total_amount": "0.01"}',
    "broken_pairs": b"a=1&&=&b&%%&c=%ZZ&=x",
    "nul_bytes": b"out_trade_no=%00&trade_no=%00&sign=%00&v_oid=%00&v_mac=%00",
    "only_a_bad_sign": b"sign=AAAA&sign_type=RSA2",
    "non_ascii_sign_and_mac": "sign=签名&v_oid=1&v_pmode=中&v_pstatus=1&v_pstring=x&v_count=1&v_amount=0.01&v_moneytype=0&v_mac=签名&v_md5money=钱".encode(),
    "percent_encoded_non_ascii_mac": b"v_oid=1&v_pmode=1&v_pstatus=1&v_pstring=1&v_count=1&v_amount=0.01&v_moneytype=0&v_mac=%D6%D0%CE%C4&v_md5money=%E4%B8%AD",
    "missing_fields": b"v_oid=20170301-0000-1&v_pstatus=1&v_amount=0.01",
    "gbk_where_utf8_expected": "out_trade_no=订单&total_amount=壹元&sign=x".encode("gbk"),
    "utf8_where_gbk_expected": "v_oid=订单&v_pmode=银行&v_pstatus=1&v_pstring=支付完成&v_count=1&v_amount=0.01&v_moneytype=0&v_mac=x&v_md5money=y".encode(),
    "many_fields": b"&".join(b"f%d=%d" % (i, i) for i in range(50_000)),
    "absurd_unsigned_amount": b"out_trade_no=x&total_amount=1e308&trade_status=TRADE_SUCCESS&v_amount=-99999999999999999999&sign=x",
}
NOTIFY_CONTENT_TYPES = (
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=gbk",
    "text/plain",
    "application/json",
    "multipart/form-data",
)


def test_garbage_notifications_get_the_gateways_retry_answer(payment_target) -> None:
    """Y3: unverifiable notifications (garbage, missing fields, wrong charsets…) are answered
    `fail` (Alipay) / `error` (PayEase) with 200, recorded as rejected, never a 5xx."""
    failures = Failures("payment")
    with payment_target.client() as client:
        for gateway in ("alipay", "payease"):
            path = f"/notify/{gateway}"
            for name, body in GARBAGE_FORMS.items():
                for content_type in NOTIFY_CONTENT_TYPES:
                    headers = {"content-type": content_type} if content_type else {}

                    def send():
                        response = client.post(path, data=body, headers=headers)
                        assert (response.status_code, response.text) == (200, RETRY[gateway]), f"{response.status_code} {response.text[:200]}"
                        return response

                    failures.check(f"{gateway} {name} as {content_type!r}", path, send)
    failures.assert_none()


def _alipay_form(key, out_trade_no: str, amount: str, **extra: str) -> bytes:
    from payment.gateways.signing import alipay_sign_content, rsa2_sign

    params = {
        "notify_time": "2017-03-01 10:00:00",
        "notify_type": "trade_status_sync",
        "notify_id": uuid.uuid4().hex,
        "charset": "utf-8",
        "version": "1.0",
        "app_id": extra.pop("app_id", "2021000000000000"),
        "trade_no": uuid.uuid4().hex[:28],
        "out_trade_no": out_trade_no,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": amount,
        "gmt_payment": "2017-03-01 09:59:58",
        **extra,
    }
    params["sign"] = rsa2_sign(key, alipay_sign_content(params))
    params["sign_type"] = "RSA2"
    return urlencode(params).encode()


def _payease_form(key: str, out_trade_no: str, amount: str, count: str = "1") -> bytes:
    from payment.gateways.signing import hmac_md5

    fields = {
        "v_oid": out_trade_no,
        "v_pmode": "中国工商银行",
        "v_pstatus": "1",
        "v_pstring": "支付完成",
        "v_count": count,
        "v_amount": amount,
        "v_moneytype": "0",
    }
    fields["v_mac"] = hmac_md5(key, fields["v_oid"] + fields["v_pmode"] + fields["v_pstatus"] + fields["v_pstring"] + fields["v_count"])
    fields["v_md5money"] = hmac_md5(key, fields["v_amount"] + fields["v_moneytype"])
    return urlencode(fields, encoding="gbk").encode("ascii")


ABSURD_AMOUNTS = (
    "1e308",
    "-0.01",
    "99999999999999999999.99",
    "9999999999.99",
    "0.010",
    "0.001",
    "NaN",
    "Infinity",
    "",
    " ",
    "0",
    "0x1",
    "1,00",
    "１.００",
    "0.01\x00",
)


def test_signed_notifications_with_absurd_amounts_change_nothing(payment_target) -> None:
    """Y3: a correctly signed notification whose amount is absurd (or not the order's) is recorded and
    answered `success` / `sent` (retrying would not change it), and the order stays unpaid."""
    target = payment_target
    candidate = target.headers["candidate"]
    order_id = target.seeded["order_id"]
    payease_key = Path(target.ctx.settings.payease_key_file).read_text().strip()
    alipay_app_id = target.ctx.gateway("alipay").app_id
    failures = Failures("payment")
    with target.client() as client:
        trades = {}
        for gateway, bank in (("alipay", None), ("payease", "icbc")):
            response = client.post(f"/orders/{order_id}/checkout", json={"gateway": gateway, "bank": bank}, headers=candidate)
            assert response.status_code == 200, response.text
            fields = response.json()["redirect"]["fields"]
            trades[gateway] = fields["v_oid"] if gateway == "payease" else json.loads(fields["biz_content"])["out_trade_no"]
        for amount in ABSURD_AMOUNTS:
            for gateway in ("alipay", "payease"):
                if gateway == "alipay":
                    body = _alipay_form(target.seeded["alipay_key"], trades["alipay"], amount, app_id=alipay_app_id)
                else:
                    try:
                        body = _payease_form(payease_key, trades["payease"], amount)
                    except UnicodeEncodeError:
                        continue  # nothing PayEase could have signed

                def send():
                    response = client.post(f"/notify/{gateway}", data=body, headers={"content-type": "application/x-www-form-urlencoded"})
                    assert response.status_code == 200, f"{response.status_code} {response.text[:200]}"
                    assert response.text in (STOP[gateway], RETRY[gateway]), response.text
                    return response

                failures.check(f"{gateway} signed amount {amount!r}", f"/notify/{gateway}", send)
        order = client.get(f"/orders/{order_id}", headers=candidate).json()
    failures.assert_none()
    assert order["status"] == "open", order


def test_payease_notification_with_a_non_ascii_mac_is_refused_not_a_server_error(payment_target) -> None:
    """Y3: v_mac / v_md5money that are not hex (here Chinese) cannot be compared as digests: the
    notification is unverified (`error`, 200), not a 503."""
    body = _payease_form("not-our-key", "20170301-0000-1", "0.01").replace(b"v_mac=", b"v_mac=%D6%D0", 1)
    with payment_target.client() as client:
        response = client.post("/notify/payease", data=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.text) == (200, "error")


def test_payease_notification_with_a_non_ascii_digit_count_is_refused_not_a_server_error(payment_target) -> None:
    """Y3: a signed v_count such as "①" passes str.isdigit() but is no number: unverified (`error`, 200), not a 503."""
    key = Path(payment_target.ctx.settings.payease_key_file).read_text().strip()
    with payment_target.client() as client:
        response = client.post(
            "/notify/payease", data=_payease_form(key, "20170301-0000-1", "0.01", count="①"), headers={"content-type": "application/x-www-form-urlencoded"}
        )
    assert (response.status_code, response.text) == (200, "error")


# --- Cases found by the sweeps above, named ---------------------------------------------------------


def test_passport_nul_in_a_text_field_is_refused_and_changes_nothing(passport_target) -> None:
    """P2, P5: a NUL character (which PostgreSQL text cannot hold) in the login email or a profile
    field was a 500 from the database; it is a 422 invalid_request and the profile is unchanged."""
    # a session of its own: the sweeps above may have logged the shared one out (DELETE /sessions)
    token = passport_target.ctx.signer.issue(
        passport_id=passport_target.seeded["pids"]["support"], roles=["support"], token_version=0, school_code=None, now=datetime.now(UTC)
    )
    headers = {"authorization": f"Bearer {token}"}
    with passport_target.client() as client:
        before = client.get("/me", headers=headers).json()
        login = client.post("/sessions", json={"email": "a\x00@example.com", "password": "x", "captcha_token": "x", "captcha_answer": "K7PX"})
        profile = client.put("/me/profile", json={"name": "廖\x00晓儿", "phone": "13800000000"}, headers=headers)
        after = client.get("/me", headers=headers).json()
    for response in (login, profile):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.json()["code"] == "invalid_request"
    assert after == before


def test_eligibility_nul_in_a_text_field_is_refused(eligibility_target) -> None:
    """E12, E10: NUL in a rebind reason or a teacher's note is refused as bad input (422), before any use case."""
    with eligibility_target.client() as client:
        rebind = client.post(
            f"/support/registrations/{uuid.uuid4()}/rebind",
            json={"new_passport_id": "0" * 32, "reason": "考生\x00来电"},
            headers=eligibility_target.headers["support"],
        )
        decision = client.post(f"/teacher/cet6-reviews/{uuid.uuid4()}/approve", json={"note": "\x00"}, headers=eligibility_target.headers["teacher"])
        # 李博 of the demo registry studies at the teacher's school: this one reached the database.
        application = client.post(
            "/teacher/cet6-reviews",
            json={"id_type": "macao_id", "id_number": "99101000001", "name": "李博", "ticket_number": "993010162100101", "note": "成绩\x00核实"},
            headers=eligibility_target.headers["teacher"],
        )
    for response in (rebind, decision, application):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"


def test_eligibility_json_bodies_keep_the_1mb_limit_while_registry_imports_may_be_larger(eligibility_target) -> None:
    """E13: only the registry import paths take files over 1 MB; a 1.5 MB JSON body elsewhere is a 413
    (it used to be read and parsed up to the 20 MB import limit)."""
    from eligibility.cli import DEMO

    padded = (DEMO / "students.csv").read_text(encoding="utf-8") + "\n" * (MB + MB // 2)
    with eligibility_target.client() as client:
        query = client.post(
            "/qualification/query",
            data=b'{"name": "' + b"a" * (MB + MB // 2) + b'"}',
            headers={**eligibility_target.headers["candidate"], "content-type": "application/json"},
        )
        imported = client.post("/registry/students", data=padded.encode(), headers={**eligibility_target.headers["ops"], "content-type": "text/csv"})
    assert query.status_code == 413 and query.json()["code"] == "payload_too_large", query.text
    assert imported.status_code == 200, imported.text


def _enrolment_ops(client, target, method: str, path: str, body: dict):
    return client.request(method, path, json=body, headers=target.headers["ops"])


def test_enrolment_nul_in_ops_text_is_refused_and_changes_nothing(enrolment_target) -> None:
    """N1, N3, N10: a NUL character (PostgreSQL text cannot hold it) in a session name, a notice or a
    campus name was a 500 from the database; it is a 422 invalid_request and nothing is stored."""
    target = enrolment_target
    session_id = target.seeded["session_id"]
    campus = {
        "province_code": "99",
        "school_code": "99301",
        "school_name": "测试\x00学校",
        "campus_code": "993011",
        "campus_name": "校区",
        "offerings": [{"subject": "1", "fee_fen": 1}],
    }
    with target.client() as client:
        before = client.get(f"/ops/sessions/{session_id}", headers=target.headers["ops"]).json()
        answers = [
            _enrolment_ops(
                client,
                target,
                "POST",
                "/ops/sessions",
                {
                    "name": "考次\x00",
                    "year": 2017,
                    "half": 1,
                    "registration": {"opens_at": "2017-03-01T00:00:00Z", "closes_at": "2017-03-11T00:00:00Z"},
                },
            ),
            _enrolment_ops(client, target, "POST", f"/ops/sessions/{session_id}/notices", {"scope": "registration_notes", "title": "须知", "body": "正文\x00"}),
            _enrolment_ops(client, target, "POST", f"/ops/sessions/{session_id}/notices", {"scope": "registration_notes", "title": "须\x00知", "body": "正文"}),
            _enrolment_ops(client, target, "POST", f"/ops/sessions/{session_id}/campuses", campus),
        ]
        after = client.get(f"/ops/sessions/{session_id}", headers=target.headers["ops"]).json()
    for response in answers:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
    assert after == before


UNREPRESENTABLE_TIMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z")


def test_enrolment_times_postgresql_cannot_store_are_refused(enrolment_target) -> None:
    """N1, N11: a window at the very edge of the calendar (year 1 east of UTC, year 9999 west of it)
    cannot be converted to UTC for storage: it is refused as bad input (422), not a 500."""
    target = enrolment_target
    session_id = target.seeded["session_id"]
    with target.client() as client:
        for moment in UNREPRESENTABLE_TIMES:
            window = (
                {"opens_at": moment, "closes_at": "9999-12-31T23:59:59Z"}
                if moment.startswith("0001")
                else {"opens_at": "2017-03-01T00:00:00Z", "closes_at": moment}
            )
            session = _enrolment_ops(client, target, "POST", "/ops/sessions", {"name": "考次", "year": 2017, "half": 1, "registration": window})
            campus = _enrolment_ops(
                client,
                target,
                "POST",
                f"/ops/sessions/{session_id}/campuses",
                {
                    "province_code": "99",
                    "school_code": "99301",
                    "school_name": "学校",
                    "campus_code": "993012",
                    "campus_name": "校区",
                    "offerings": [{"subject": "F", "fee_fen": 1, "capacity": 1, **window}],
                },
            )
            for response in (session, campus):
                assert response.status_code == 422, f"{moment}: {response.status_code} {response.text[:300]}"
                assert response.json()["code"] == "invalid_request"
