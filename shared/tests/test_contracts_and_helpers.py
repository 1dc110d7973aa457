"""Pure pieces of the shared package: the envelope, masking, ID checks, settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from cet_shared.events.contracts import ALL_TOPICS, RegistrationReleased, SubjectPaid
from cet_shared.events.envelope import EventEnvelope, event_types
from cet_shared.id_types import IdType, parse_id_type, resident_id_checksum_ok
from cet_shared.privacy import mask_email, mask_id_number, mask_name
from cet_shared.problems import Problem
from cet_shared.settings import ServiceSettings


def test_envelope_round_trip_and_unknown_fields_are_ignored():
    event = SubjectPaid(enrolment_id=uuid.uuid4(), registration_id=uuid.uuid4(), order_id=uuid.uuid4())
    envelope = EventEnvelope.wrap(event, key=str(event.registration_id), producer="enrolment")
    wire = envelope.model_dump(mode="json")
    wire["payload"]["added_in_a_later_release"] = 1  # consumers ignore fields they do not know
    reopened = EventEnvelope.model_validate(wire)
    assert reopened.open() == event
    assert reopened.event_id == envelope.event_id and reopened.version == 1


def test_every_event_of_the_catalogue_is_registered_on_a_known_topic():
    names = {name for name, _ in event_types()}
    assert {
        "AccountRegistered",
        "AccountEmailChanged",
        "ExamSessionPublished",
        "RegistrationBound",
        "QualificationGranted",
        "RegistrationRebound",
        "RegistrationReleased",
        "SubjectEnrolled",
        "SubjectCancelled",
        "SubjectExpired",
        "SubjectPaid",
        "RefundRequired",
        "PaymentConfirmed",
        "RefundCompleted",
    } <= names
    assert all(cls.topic in ALL_TOPICS for cls in event_types().values())


def test_envelope_refuses_a_payload_missing_a_field():
    envelope = EventEnvelope(event_type="RegistrationReleased", version=1, producer="x", key="k", payload={})
    with pytest.raises(ValidationError):
        envelope.open()
    assert RegistrationReleased(registration_id=uuid.uuid4(), passport_id="A" * 32).reason == "empty_24h"


def test_masking():
    assert mask_email("liaoxiaoer@example.com") == "li********@example.com"
    assert mask_email("ab@x.cn") == "a***@x.cn"
    assert mask_id_number("11010519900101123X") == "110*************3X"
    assert mask_name("廖晓儿") == "廖**"


def test_e1_id_types_and_the_military_officer_refusal():
    assert parse_id_type("护照") is IdType.PASSPORT
    assert parse_id_type("hong_kong_id").label == "香港身份证"
    assert len(IdType) == 6
    with pytest.raises(Problem) as refused:
        parse_id_type("军官证")
    assert refused.value.code == "id_type_not_supported"
    with pytest.raises(Problem):
        parse_id_type("driving_licence")


def test_resident_id_checksum():
    assert resident_id_checksum_ok("11010519491231002X")
    assert not resident_id_checksum_ok("110105194912310021")
    assert not resident_id_checksum_ok("1101051949123100")


def test_settings_refuse_placeholder_secrets_outside_development(monkeypatch):
    monkeypatch.setenv("CET_ENV", "production")
    with pytest.raises(ValidationError):
        ServiceSettings(service_name="x", database_url="postgresql://x", captcha_secret="changeme")
    ok = ServiceSettings(service_name="x", database_url="postgresql://x", captcha_secret="a-long-random-value-1234567890")
    assert ok.environment == "production"
    monkeypatch.setenv("CET_ENV", "development")
    monkeypatch.delenv("CAPTCHA_SECRET", raising=False)
    assert ServiceSettings(service_name="x", database_url="postgresql://x").captcha_secret == ""


def test_times_are_utc():
    envelope = EventEnvelope(event_type="x", version=1, producer="p", key="k", payload={})
    assert envelope.occurred_at.tzinfo is not None and envelope.occurred_at.utcoffset() == datetime.now(UTC).utcoffset()
