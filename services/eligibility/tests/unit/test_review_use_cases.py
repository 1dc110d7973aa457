"""CET6 review decisions (E10) on the fake unit of work: rules 1–3, the teacher's decision and
application, the locked, frozen and rejected states, the resubmission throttle."""

from __future__ import annotations

import uuid

import pytest

from cet_shared.events.contracts import QualificationGranted
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from cet_shared.testing import sibling_module
from eligibility.domain.review import ReviewStatus
from eligibility.service import review, teacher_review
from eligibility.service.registrations import accept_agreement, save

LIAO = {"id_type": IdType.RESIDENT_ID_CARD, "id_number": "330101199001010024", "name": "廖晓儿"}
LI_BO = {"id_type": IdType.MACAO_ID, "id_number": "99101000001", "name": "李博"}
LI_BO_TICKET = "993010162100101"
# 廖晓儿's name on a passing record under another ID number (rule 2), and a failed record.
SCORES = """ticket_number,id_number,name,score,year,half
991010161100105,110101199003070011,廖晓儿,500,2016,1
991010161100106,330101199001010024,廖晓儿,400,2016,1
"""
LIAO_SCHOOL, OTHER_SCHOOL = "99101", "99301"
seed_registry = sibling_module(__file__, "fakes").seed_registry


async def refused(call) -> Problem:
    with pytest.raises(Problem) as caught:
        await call
    return caught.value


async def bound(uow, clock, settings, who) -> tuple[str, str]:
    passport_id = uuid.uuid4().hex.upper()
    await accept_agreement(uow, clock, settings, passport_id=passport_id, version=settings.agreement_version)
    saved = await save(uow, clock, settings, passport_id=passport_id, confirmed=True, **who)
    return passport_id, saved["registration_id"]


def apply(passport_id: str, who: dict, ticket: str) -> dict:
    return {"passport_id": passport_id, **who, "ticket_number": ticket, "confirmed": True}


async def test_e10_rule1_approves_at_once_grants_cet6_on_the_registration_and_freezes(demo, clock, settings, open_session):
    open_session()
    passport_id, registration_id = await bound(demo, clock, settings, LI_BO)
    result = await review.submit(demo, clock, **apply(passport_id, LI_BO, LI_BO_TICKET))
    assert result["status"] == "approved" and result["granted_subjects"] == ["2"]
    (granted,) = demo.published(QualificationGranted)
    assert str(granted.registration_id) == registration_id and granted.subject_codes == ["2"] and granted.reason == "cet6_review_rule1"
    assert "2" in demo.committed.registrations[uuid.UUID(registration_id)].qualification_subjects
    frozen = await refused(review.resubmit(demo, clock, settings, **apply(passport_id, LI_BO, LI_BO_TICKET)))
    assert frozen.code == "review_approved_frozen"
    assert (await refused(review.withdraw(demo, passport_id=passport_id))).code == "review_approved_frozen"


async def test_e10_rule3_refusals_store_nothing(demo, clock, settings, open_session):
    seed_registry(demo, "", SCORES)
    open_session()
    passport_id, _ = await bound(demo, clock, settings, LIAO)
    failed = await refused(review.submit(demo, clock, **apply(passport_id, LIAO, "991010161100106")))
    unknown = await refused(review.submit(demo, clock, **apply(passport_id, LIAO, "991010161100199")))
    assert (failed.code, unknown.code) == ("review_not_passed", "review_ticket_unknown")
    assert demo.committed.reviews == {} and demo.published(QualificationGranted) == []


async def test_e10_rule2_waits_locked_for_a_teacher_of_the_school_who_approves(demo, clock, settings, open_session):
    seed_registry(demo, "", SCORES)
    open_session()
    passport_id, registration_id = await bound(demo, clock, settings, LIAO)
    pending = await review.submit(demo, clock, **apply(passport_id, LIAO, "991010161100105"))
    assert pending["status"] == "pending" and demo.published(QualificationGranted) == []
    assert (await refused(review.withdraw(demo, passport_id=passport_id))).code == "review_pending_locked"
    (listed,) = await teacher_review.teacher_list(demo, school_code=LIAO_SCHOOL, status=ReviewStatus.PENDING)
    assert listed["rule"] == "rule2" and listed["id_number"] != LIAO["id_number"], "masked"
    assert await teacher_review.teacher_list(demo, school_code=OTHER_SCHOOL, status=None) == []
    review_id = uuid.UUID(listed["id"])
    stranger = await refused(
        teacher_review.teacher_decide(demo, clock, teacher="T" * 32, school_code=OTHER_SCHOOL, review_id=review_id, approve=True, note=None)
    )
    assert stranger.code == "review_not_found"
    assert demo.audited("review.decided") == [], "a refusal records nothing"
    decided = await teacher_review.teacher_decide(demo, clock, teacher="T" * 32, school_code=LIAO_SCHOOL, review_id=review_id, approve=True, note="核对无误")
    # 廖晓儿 holds the level-4 oral qualification: CET6 covers the level's oral exam too.
    assert decided["status"] == "approved" and decided["granted_subjects"] == ["2", "S"]
    (granted,) = demo.published(QualificationGranted)
    assert str(granted.registration_id) == registration_id and granted.reason == "cet6_review_teacher"
    twice = await refused(teacher_review.teacher_decide(demo, clock, teacher="T" * 32, school_code=LIAO_SCHOOL, review_id=review_id, approve=False, note=None))
    assert twice.code == "review_not_pending" and len(demo.published(QualificationGranted)) == 1
    (entry,) = demo.audited("review.decided")
    assert (entry.subject, entry.before, entry.candidate, entry.school) == (("cet6_review", review_id), {"status": "pending"}, passport_id, LIAO_SCHOOL)
    assert entry.after == {"status": "approved", "note": "核对无误", "granted": ["2", "S"]}


async def test_e10_a_rejected_application_can_be_resubmitted_within_the_throttle_or_withdrawn(demo, clock, settings, open_session):
    seed_registry(demo, "", SCORES)
    open_session()
    settings.review_resubmissions = 1
    passport_id, _ = await bound(demo, clock, settings, LIAO)
    await review.submit(demo, clock, **apply(passport_id, LIAO, "991010161100105"))
    (listed,) = await teacher_review.teacher_list(demo, school_code=LIAO_SCHOOL, status=None)
    await teacher_review.teacher_decide(
        demo, clock, teacher="T" * 32, school_code=LIAO_SCHOOL, review_id=uuid.UUID(listed["id"]), approve=False, note="姓名不符"
    )
    shown = await review.view(demo, passport_id=passport_id)
    assert shown["status_label"] == "复核未通过" and shown["decision_note"] == "姓名不符" and shown["can_edit"] is True
    again = await review.resubmit(demo, clock, settings, **apply(passport_id, LIAO, "991010161100105"))
    assert again["status"] == "pending"
    (stored,) = demo.committed.reviews.values()
    assert stored.submissions == 2 and stored.decision_note is None and stored.decided_by is None
    await teacher_review.teacher_decide(demo, clock, teacher="T" * 32, school_code=LIAO_SCHOOL, review_id=stored.id, approve=False, note=None)
    throttled = await refused(review.resubmit(demo, clock, settings, **apply(passport_id, LIAO, "991010161100105")))
    assert throttled.status == 429 and demo.committed.reviews[stored.id].status is ReviewStatus.REJECTED
    await review.withdraw(demo, passport_id=passport_id)
    assert demo.committed.reviews == {}
    assert (await refused(review.view(demo, passport_id=passport_id))).code == "review_not_found"


async def test_e10_a_teachers_application_before_binding_joins_the_account_on_save(demo, clock, settings, open_session):
    open_session()
    done = await teacher_review.teacher_submit(demo, clock, teacher="T" * 32, school_code=LIAO_SCHOOL, ticket_number=None, note="2004年成绩单已核验", **LIAO)
    assert done["status"] == "approved" and done["granted_subjects"] == ["2", "S"]
    (unclaimed,) = demo.committed.reviews.values()
    assert unclaimed.passport_id is None and unclaimed.rule == "teacher"
    other_school = await refused(teacher_review.teacher_submit(demo, clock, teacher="T" * 32, school_code=OTHER_SCHOOL, ticket_number=None, note="", **LIAO))
    assert other_school.code == "no_record"
    passport_id, registration_id = await bound(demo, clock, settings, LIAO)
    assert demo.committed.reviews[unclaimed.id].passport_id == passport_id
    assert {"2", "S"} <= set(demo.committed.registrations[uuid.UUID(registration_id)].qualification_subjects), "the grant is on the student"
    assert (await review.view(demo, passport_id=passport_id))["status"] == "approved"
