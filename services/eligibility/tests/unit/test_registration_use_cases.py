"""The candidate's way (E2–E9) and support's rebinding (E12) on the fake unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from cet_shared.events.contracts import RegistrationBound, RegistrationRebound, RegistrationReleased
from cet_shared.id_types import IdType
from cet_shared.problems import Problem
from eligibility.service import registrations as service
from eligibility.service.rebinding import rebind
from eligibility.service.release import release_left_empty

LIAO = {"id_type": IdType.RESIDENT_ID_CARD, "id_number": "330101199001010024", "name": "廖晓儿"}
YAN = {"id_type": IdType.RESIDENT_ID_CARD, "id_number": "990101200001010014", "name": "颜测试"}


def pid() -> str:
    return uuid.uuid4().hex.upper()


async def agreed(uow, clock, settings) -> str:
    passport_id = pid()
    await service.accept_agreement(uow, clock, settings, passport_id=passport_id, version=settings.agreement_version)
    return passport_id


async def refused(call) -> Problem:
    with pytest.raises(Problem) as caught:
        await call
    return caught.value


async def test_e2_query_before_the_agreement_is_refused_and_counts_nothing(demo, clock, settings):
    problem = await refused(service.query(demo, clock, settings, passport_id=pid(), client="203.0.113.7", **LIAO))
    assert (problem.status, problem.code) == (403, "agreement_required")
    assert demo.committed.hits == {}
    outdated = await refused(service.accept_agreement(demo, clock, settings, passport_id=pid(), version="2016-1"))
    assert outdated.code == "agreement_outdated" and demo.committed.agreements == set()


async def test_e3_e4_query_shows_the_confirmation_and_counts_found_or_not(demo, clock, settings, open_session):
    open_session()
    settings.queries_per_account = 2
    passport_id = await agreed(demo, clock, settings)
    found = await service.query(demo, clock, settings, passport_id=passport_id, client="203.0.113.7", **LIAO)
    assert found["confirmation"]["name"] == "廖晓儿" and found["confirmation"]["qualification_subjects_text"] == "英语四级笔试; 英语四级口试"
    assert found["window"] == "open" and found["can_save"] is True
    missing = await refused(service.query(demo, clock, settings, passport_id=passport_id, client="203.0.113.7", **{**LIAO, "name": "别人"}))
    assert missing.code == "no_record"
    over = await refused(service.query(demo, clock, settings, passport_id=passport_id, client="203.0.113.7", **LIAO))
    assert over.status == 429, "the unfound query counted too"
    clock.advance(settings.query_window)
    assert (await service.query(demo, clock, settings, passport_id=passport_id, client="203.0.113.7", **LIAO))["message"] == "查询成功"


async def test_e5_before_the_window_the_page_is_shown_but_nothing_is_saved(demo, clock, settings, open_session):
    open_session(opens_in=timedelta(hours=1))
    passport_id = await agreed(demo, clock, settings)
    shown = await service.query(demo, clock, settings, passport_id=passport_id, client="c", **LIAO)
    assert shown["window"] == "before" and shown["can_save"] is False
    problem = await refused(service.save(demo, clock, settings, passport_id=passport_id, confirmed=True, **LIAO))
    assert problem.code == "registration_not_open"
    assert demo.committed.registrations == {} and demo.published() == []


async def test_e6_save_binds_once_publishes_once_and_the_header_shows_the_name(demo, clock, settings, open_session):
    session = open_session()
    passport_id = await agreed(demo, clock, settings)
    assert (await service.home(demo, clock, settings, passport_id=passport_id))["header_name"] == "未设置"
    unticked = await refused(service.save(demo, clock, settings, passport_id=passport_id, confirmed=False, **LIAO))
    assert unticked.code == "confirm_required"
    saved = await service.save(demo, clock, settings, passport_id=passport_id, confirmed=True, **LIAO)
    assert saved["message"] == "保存成功" and saved["registration"]["id_number"] != LIAO["id_number"], "masked"
    again = await service.save(demo, clock, settings, passport_id=passport_id, confirmed=True, **LIAO)
    assert again["registration_id"] == saved["registration_id"] and again["message"] is None
    (bound,) = demo.published(RegistrationBound)
    assert str(bound.registration_id) == saved["registration_id"] and bound.exam_session_id == session.id
    assert bound.snapshot.name == "廖晓儿" and bound.passport_id == passport_id
    home = await service.home(demo, clock, settings, passport_id=passport_id)
    assert home["header_name"] == "廖晓儿" and home["bound"] is True
    mine = await service.my_registration(demo, clock, passport_id=passport_id)
    assert mine["registration_id"] == saved["registration_id"]


async def test_e7_one_account_one_candidate_either_way_and_the_loser_changes_nothing(demo, clock, settings, open_session):
    open_session()
    first, second = await agreed(demo, clock, settings), await agreed(demo, clock, settings)
    await service.save(demo, clock, settings, passport_id=first, confirmed=True, **LIAO)
    taken = await refused(service.save(demo, clock, settings, passport_id=second, confirmed=True, **LIAO))
    assert taken.code == "candidate_already_bound" and taken.extra["recovery"] == "/account-recovery"
    other = await refused(service.save(demo, clock, settings, passport_id=first, confirmed=True, **YAN))
    assert other.code == "account_already_bound"
    assert len(demo.committed.registrations) == 1 and len(demo.published(RegistrationBound)) == 1


async def test_e9_a_registration_left_empty_is_deleted_and_released_once(demo, clock, settings, open_session):
    """Enrolment keeps E9's timer (services/enrolment/tests/test_empty_registrations.py); told a
    registration was left empty, eligibility deletes it and releases the binding, once."""
    open_session(lasts=timedelta(days=30))
    empty = await service.save(demo, clock, settings, passport_id=await agreed(demo, clock, settings), confirmed=True, **LIAO)
    kept = await service.save(demo, clock, settings, passport_id=await agreed(demo, clock, settings), confirmed=True, **YAN)
    for expected in (True, False):  # the second notice is a redelivery: nothing left to release
        async with demo:
            assert await release_left_empty(demo, uuid.UUID(empty["registration_id"])) is expected
            await demo.commit()
    (released,) = demo.published(RegistrationReleased)
    assert str(released.registration_id) == empty["registration_id"]
    assert list(demo.committed.registrations) == [uuid.UUID(kept["registration_id"])]


async def test_e12_rebinding_moves_the_registration_audited_and_refuses_bad_targets(demo, clock, settings, open_session):
    open_session()
    old, busy = await agreed(demo, clock, settings), await agreed(demo, clock, settings)
    saved = await service.save(demo, clock, settings, passport_id=old, confirmed=True, **LIAO)
    await service.save(demo, clock, settings, passport_id=busy, confirmed=True, **YAN)
    registration_id = uuid.UUID(saved["registration_id"])
    same = await refused(rebind(demo, clock, actor="S" * 32, registration_id=registration_id, new_passport_id=old, reason="同一账号"))
    target = await refused(rebind(demo, clock, actor="S" * 32, registration_id=registration_id, new_passport_id=busy, reason="已绑定"))
    invalid = await refused(rebind(demo, clock, actor="S" * 32, registration_id=registration_id, new_passport_id="nope", reason="格式"))
    assert [same.code, target.code, invalid.code] == ["rebind_same_account", "target_account_bound", "passport_id_invalid"]
    assert demo.committed.rebindings == [] and demo.published(RegistrationRebound) == [] and demo.audited("registration.rebound") == []
    new = pid()
    done = await rebind(demo, clock, actor="S" * 32, registration_id=registration_id, new_passport_id=new, reason="忘记账号")
    assert (done.old_passport_id, done.new_passport_id) == (old, new)
    (audit,) = demo.committed.rebindings
    assert (audit.actor_passport_id, audit.reason, audit.rebound_at) == ("S" * 32, "忘记账号", clock.now())
    (entry,) = demo.audited("registration.rebound")  # the audit trail's row, beside rebind_audit's
    assert (entry.subject, entry.before, entry.after, entry.candidate) == (
        ("registration", registration_id),
        {"passport_id": old},
        {"passport_id": new, "reason": "忘记账号"},
        new,
    )
    (event,) = demo.published(RegistrationRebound)
    assert event.new_passport_id == new
    assert (await service.home(demo, clock, settings, passport_id=new))["header_name"] == "廖晓儿"
