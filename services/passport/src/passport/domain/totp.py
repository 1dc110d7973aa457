"""Staff's second factor: RFC 6238 time-based one-time passwords (pyotp) and single-use recovery
codes. Pure: the caller passes the time and stores what comes back."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

RECOVERY_CODES = 10
# A code from the step before or after still counts: a phone's clock a few seconds off, or a
# code typed as it changed.
CLOCK_DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off paper


def new_secret() -> str:
    """160 random bits, base32, as authenticator apps expect (RFC 4226 §4)."""
    return pyotp.random_base32(32)


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str  # a data: URI, shown by the console as an image (its CSP allows data: images)


def enrolment(secret: str, *, account: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=segno.make(uri, error="m").svg_data_uri(scale=4))


def accepted_step(secret: str, code: str, *, now: datetime, last_used_step: int | None) -> int | None:
    """The time step `code` belongs to, or None when it is wrong, or was already used: a code
    works once (RFC 6238 §5.2), so one read over a shoulder cannot be replayed in its 30 s."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):  # compare_digest takes ASCII only
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - CLOCK_DRIFT_STEPS, current + CLOCK_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if last_used_step is not None and step <= last_used_step:
                return None
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes for a lost phone, shown once; e.g. 7KQM-X3PD-9TRB (60 random bits each)."""
    return ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3)) for _ in range(count)]


def hash_recovery_code(code: str) -> str:
    """Only the hash is stored. SHA-256 suffices: 60 random bits each, not a person's password."""
    normalised = code.strip().upper().replace(" ", "").replace("-", "")
    return hashlib.sha256(normalised.encode()).hexdigest()
