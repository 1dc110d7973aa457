"""Pure rules: ticket numbers and the CET6 review rules (E10), subjects (N2 codes in E4, E13)."""

from __future__ import annotations

import pytest

from eligibility.domain.codes import TicketNumberInvalid, parse_subjects, parse_ticket_number, subjects_text
from eligibility.domain.review import (
    Outcome,
    Refused,
    ScoreRecord,
    apply_rules,
    granted_subjects,
    review_button_shown,
)

PASS = ScoreRecord("993010162100101", "99101000001", "李博", 480, 2016)


def test_e10_written_ticket_number_structure():
    ticket = parse_ticket_number("993010162100101")
    assert (ticket.oral, ticket.region, ticket.year_2, ticket.half, ticket.subject_code) == (False, "99", "16", 2, "1")
    assert ticket.is_written_cet4


def test_e10_oral_ticket_number_is_f_or_s_and_14_digits():
    assert parse_ticket_number("f99301016200101").oral
    assert parse_ticket_number("S99301016200101").subject_code == "S"
    assert not parse_ticket_number("F99301016200101").is_written_cet4


@pytest.mark.parametrize(
    "value, reason",
    [
        ("99301016210010", "格式"),  # 14 digits
        ("9930101621001011", "格式"),  # 16 digits
        ("993010163100101", "第9位"),  # half 3
        ("993010162000101", "第10位"),  # subject 0
        ("X99301016200101", "格式"),
        ("F9930101620010", "格式"),  # oral with 13 digits
    ],
)
def test_e10_malformed_ticket_numbers_are_refused_with_the_reason(value, reason):
    with pytest.raises(TicketNumberInvalid, match=reason):
        parse_ticket_number(value)


def test_e10_rule1_ticket_and_id_number_match_a_pass_whatever_the_name():
    assert apply_rules(PASS, id_number="99101000001", name="别人") is Outcome.RULE1_APPROVED


def test_e10_rule2_ticket_and_name_match_but_id_differs_goes_pending():
    assert apply_rules(PASS, id_number="99101000002", name="李博") is Outcome.RULE2_PENDING


@pytest.mark.parametrize(
    "record, id_number, name, code",
    [
        (None, "99101000001", "李博", "review_ticket_unknown"),
        (PASS, "99101000002", "别人", "review_record_mismatch"),
        (ScoreRecord("993010162100101", "99101000001", "李博", 424, 2016), "99101000001", "李博", "review_not_passed"),
        (ScoreRecord("993010042100101", "99101000001", "李博", 500, 2004), "99101000001", "李博", "review_score_before_2005"),
    ],
)
def test_e10_rule3_refused_unknown_ticket_mismatch_or_not_a_pass(record, id_number, name, code):
    with pytest.raises(Refused) as refused:
        apply_rules(record, id_number=id_number, name=name)
    assert refused.value.code == code


def test_e10_score_of_exactly_425_passes():
    assert apply_rules(ScoreRecord("t", "1", "n", 425, 2005), id_number="1", name="x") is Outcome.RULE1_APPROVED


def test_e10_button_condition():
    assert review_button_shown(campus_offers_cet6=True, cet6_barred=False, qualification_subjects=["1", "F"])
    assert not review_button_shown(campus_offers_cet6=False, cet6_barred=False, qualification_subjects=["1"])
    assert not review_button_shown(campus_offers_cet6=True, cet6_barred=True, qualification_subjects=["1"])
    assert not review_button_shown(campus_offers_cet6=True, cet6_barred=False, qualification_subjects=["1", "2"])


def test_e10_grant_adds_cet6_written_and_oral_only_with_cet4_oral():
    assert granted_subjects(["1", "F"]) == ["2", "S"]
    assert granted_subjects(["1", "3", "4"]) == ["2"]


def test_e4_subjects_are_named_as_the_guide_shows_them():
    assert subjects_text(["F", "1"]) == "英语四级笔试; 英语四级口试"
    assert parse_subjects("1；3, 4 f") == ["1", "3", "4", "F"]
    with pytest.raises(ValueError, match="未知"):
        parse_subjects("1;X")
