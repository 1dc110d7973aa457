"""Events passport reacts to. (The payment receipt mail, Y6, subscribes here.)"""

from __future__ import annotations

from cet_shared.messaging import EventConsumer
from passport.bootstrap import Passport


def build_consumers(ctx: Passport) -> list[EventConsumer]:
    return []
