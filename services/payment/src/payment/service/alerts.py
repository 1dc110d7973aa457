"""Alerts: a log line at error level (what the operators' log alerting watches) and a counter
per kind, so a test or a health probe can see that one was raised."""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("payment.alerts")
ALERTS: Counter[str] = Counter()


def alert(kind: str, message: str, *args: object) -> None:
    ALERTS[kind] += 1
    log.error("ALERT %s: " + message, kind, *args)
