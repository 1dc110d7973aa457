"""N11 and N14 decisions, pure: the colour of what is left, and where a freed seat goes.

The seat itself moves in one place only (`service.seats`, on the database functions of
migration 0006); these functions decide, they never count."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from enrolment.domain.context import Offering
from enrolment.domain.refusals import Refusal

Colour = Literal["green", "yellow", "red"]
FreedSeatGoesTo = Literal["nowhere", "waiting_list", "pool"]


def seats_full() -> Refusal:
    return Refusal("seats_full", "该校区考位已报满，请选择其他校区")


def capacity_colour(capacity: int | None, remaining: int | None) -> Colour:
    """N11: green above half of the set capacity, yellow at half or below, red (无) when full."""
    if capacity is None or remaining is None:
        return "green"
    if remaining <= 0:
        return "red"
    return "green" if remaining * 2 > capacity else "yellow"


def capacity_label(capacity: int | None, remaining: int | None) -> str:
    if remaining is None:
        return "不限"
    return "无" if remaining <= 0 else str(remaining)


def selectable(capacity: int | None, remaining: int | None) -> bool:
    """A red (无) campus cannot be ticked."""
    return capacity_colour(capacity, remaining) != "red"


def freed_seat_goes_to(offering: Offering, now: datetime) -> FreedSeatGoesTo:
    """N14: a seat freed by cancellation or expiry goes to the first in line while the campus
    still takes enrolments; an unlimited offering has no seat to give."""
    if not offering.limited:
        return "nowhere"
    if offering.closes_at is not None and now >= offering.closes_at:
        return "pool"
    return "waiting_list"
