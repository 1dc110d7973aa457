"""Payment's figures: gateway notifications by verdict (what operators watch when money arrives)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

NOTIFICATIONS = Counter("cet_payment_notifications", "gateway notifications by verdict", ("gateway", "verdict"))
UNPROCESSED = "unprocessed"  # we could not record or apply it; the gateway retries


def record_notification(gateway: str, outcomes: Iterable[str]) -> None:
    for outcome in outcomes:
        # the gateway's own non-success statuses (status_WAIT_BUYER_PAY, ...) count as one verdict
        NOTIFICATIONS.labels(gateway, "not_successful" if outcome.startswith("status_") else outcome).inc()
