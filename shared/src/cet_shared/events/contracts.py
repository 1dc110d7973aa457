"""The event catalogue, version 1. Topics are per producing service and aggregate.

Message keys: registration id for registration-scoped events, passport id for account events,
so a consumer sees each registration's events in commit order.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from cet_shared.events.envelope import Event

PASSPORT_ACCOUNTS = "passport.accounts.v1"
ELIGIBILITY_REGISTRATIONS = "eligibility.registrations.v1"
ENROLMENT_SESSIONS = "enrolment.sessions.v1"
ENROLMENT_ENROLMENTS = "enrolment.enrolments.v1"
PAYMENT_PAYMENTS = "payment.payments.v1"

ALL_TOPICS = (
    PASSPORT_ACCOUNTS,
    ELIGIBILITY_REGISTRATIONS,
    ENROLMENT_SESSIONS,
    ENROLMENT_ENROLMENTS,
    PAYMENT_PAYMENTS,
)

Gateway = Literal["alipay", "payease"]


# -- passport ------------------------------------------------------------------------------


class AccountRegistered(Event):
    event_type = "AccountRegistered"
    topic = PASSPORT_ACCOUNTS
    passport_id: str
    email: str
    registered_at: datetime


class AccountEmailChanged(Event):
    event_type = "AccountEmailChanged"
    topic = PASSPORT_ACCOUNTS
    passport_id: str
    old_email: str
    email: str
    changed_at: datetime


class SessionsRevoked(Event):
    """Access tokens that must stop working before they expire: after a password reset or change
    every token below `token_version_below`, after a log-out (or a refresh token used twice: passport
    ends that log-in's session) the one token `token_id`. Each service
    keeps these (cet_shared.revocations) until `expires_at`, when the tokens expire anyway."""

    event_type = "SessionsRevoked"
    topic = PASSPORT_ACCOUNTS
    passport_id: str
    reason: Literal["password_reset", "password_change", "log_out", "account_disabled", "second_factor_reset", "refresh_reuse"]
    token_version_below: int | None = None
    token_id: str | None = None
    revoked_at: datetime
    expires_at: datetime


# -- enrolment: exam sessions -----------------------------------------------------------------


class ExamDate(BaseModel):
    subject_code: str
    exam_date: date


class ExamSessionPublished(Event):
    event_type = "ExamSessionPublished"
    topic = ENROLMENT_SESSIONS
    exam_session_id: uuid.UUID
    name: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    written_exam_date: date | None = None
    exam_dates: list[ExamDate] = []


class RegistrationLeftEmpty(Event):
    """E9, decided where the subjects live: the registration was bound longer ago than the empty
    lifetime and holds no subject. Enrolment already refuses new subjects for it; eligibility
    deletes it and releases the binding (RegistrationReleased). Keyed by registration id."""

    event_type = "RegistrationLeftEmpty"
    topic = ENROLMENT_SESSIONS
    registration_id: uuid.UUID
    passport_id: str
    bound_at: datetime


# -- eligibility: registrations -------------------------------------------------------------


class RegistrationSnapshot(BaseModel):
    name: str
    gender: str
    id_type: str
    id_number: str
    province_code: str
    school_code: str
    school_name: str
    campus_code: str
    campus_name: str
    qualification_subjects: list[str]
    cet6_barred: bool = False


class RegistrationBound(Event):
    event_type = "RegistrationBound"
    topic = ELIGIBILITY_REGISTRATIONS
    registration_id: uuid.UUID
    exam_session_id: uuid.UUID
    passport_id: str
    snapshot: RegistrationSnapshot
    bound_at: datetime


class QualificationGranted(Event):
    event_type = "QualificationGranted"
    topic = ELIGIBILITY_REGISTRATIONS
    registration_id: uuid.UUID
    subject_codes: list[str]
    reason: Literal["cet6_review_rule1", "cet6_review_teacher"]


class RegistrationRebound(Event):
    event_type = "RegistrationRebound"
    topic = ELIGIBILITY_REGISTRATIONS
    registration_id: uuid.UUID
    old_passport_id: str
    new_passport_id: str


class RegistrationReleased(Event):
    event_type = "RegistrationReleased"
    topic = ELIGIBILITY_REGISTRATIONS
    registration_id: uuid.UUID
    passport_id: str
    reason: Literal["empty_24h"] = "empty_24h"


# -- enrolment: subjects ---------------------------------------------------------------------


class SubjectEnrolled(Event):
    event_type = "SubjectEnrolled"
    topic = ENROLMENT_ENROLMENTS
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID
    passport_id: str
    subject_code: str
    subject_name: str
    campus_code: str
    fee_fen: int
    expires_at: datetime


class SubjectCancelled(Event):
    event_type = "SubjectCancelled"
    topic = ENROLMENT_ENROLMENTS
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID


class SubjectExpired(Event):
    event_type = "SubjectExpired"
    topic = ENROLMENT_ENROLMENTS
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID


class SubjectPaid(Event):
    event_type = "SubjectPaid"
    topic = ENROLMENT_ENROLMENTS
    enrolment_id: uuid.UUID
    registration_id: uuid.UUID
    order_id: uuid.UUID


class RefundRequired(Event):
    event_type = "RefundRequired"
    topic = ENROLMENT_ENROLMENTS
    order_id: uuid.UUID
    registration_id: uuid.UUID
    enrolment_ids: list[uuid.UUID]
    amount_fen: int
    reason: Literal["late_payment_no_seat", "subject_not_payable"]


class PaidSubject(BaseModel):
    enrolment_id: uuid.UUID
    subject_code: str
    subject_name: str
    fee_fen: int


class PaymentAllocated(Event):
    """Enrolment's answer to PaymentConfirmed: which subjects the money bought (seat held, paid)
    and which it could not (refund requested). The receipt (Y6) lists only what it bought."""

    event_type = "PaymentAllocated"
    topic = ENROLMENT_ENROLMENTS
    order_id: uuid.UUID
    registration_id: uuid.UUID
    passport_id: str
    gateway: Gateway
    gateway_transaction_id: str
    paid_at: datetime
    amount_fen: int
    honoured: list[PaidSubject] = []
    honoured_fen: int = 0
    refused_enrolment_ids: list[uuid.UUID] = []
    refund_fen: int = 0


# -- payment ---------------------------------------------------------------------------------


class PaymentConfirmed(Event):
    event_type = "PaymentConfirmed"
    topic = PAYMENT_PAYMENTS
    order_id: uuid.UUID
    registration_id: uuid.UUID
    passport_id: str
    enrolment_ids: list[uuid.UUID]
    amount_fen: int
    gateway: Gateway
    gateway_transaction_id: str
    paid_at: datetime
    # What the receipt mail (Y6) lists: each paid subject with its fee.
    subjects: list[PaidSubject] = []


class RefundCompleted(Event):
    event_type = "RefundCompleted"
    topic = PAYMENT_PAYMENTS
    order_id: uuid.UUID
    registration_id: uuid.UUID
    enrolment_ids: list[uuid.UUID]
    amount_fen: int
    refunded_at: datetime
    # What the refund mail says: to whom, for which subjects, why, through which gateway.
    passport_id: str = ""
    subjects: list[PaidSubject] = []
    reason: str = ""
    gateway: str = ""


class RefundFailed(Event):
    """The gateway refused the refund every time we asked: support takes it from here."""

    event_type = "RefundFailed"
    topic = PAYMENT_PAYMENTS
    order_id: uuid.UUID
    registration_id: uuid.UUID
    enrolment_ids: list[uuid.UUID]
    amount_fen: int
    failed_at: datetime
    passport_id: str = ""
    reason: str = ""
