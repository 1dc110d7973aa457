"""The sealed captcha token (architecture.md, "Captcha").

Passport draws the image and hands out a token that holds the answer's keyed hash, an expiry and
a nonce, sealed (Fernet: AES + HMAC) with a secret the services share. Any service verifies a
captcha offline and records the nonce until it expires, so each captcha works once — a wrong
answer spends it too, as on the real site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared.clock import Clock
from cet_shared.db.tables import captcha_nonces
from cet_shared.problems import Problem

CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: readable on a phone


def captcha_wrong() -> Problem:
    return Problem(400, "captcha_invalid", "验证码错误或已过期，请重新输入")


class CaptchaSeal:
    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(("cet-captcha-seal:" + secret).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._hash_key = hashlib.sha256(("cet-captcha-answer:" + secret).encode()).digest()

    def _answer_hash(self, nonce: str, answer: str) -> str:
        return hmac.new(self._hash_key, f"{nonce}:{answer.strip().upper()}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def new_answer(length: int = 4) -> str:
        return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(length))

    def seal(self, answer: str, *, clock: Clock, ttl: timedelta) -> str:
        nonce = secrets.token_urlsafe(16)
        expires = int((clock.now() + ttl).timestamp())
        body = json.dumps({"n": nonce, "h": self._answer_hash(nonce, answer), "e": expires}).encode()
        return self._fernet.encrypt(body).decode()

    async def verify(self, session: AsyncSession, token: str, answer: str, *, clock: Clock) -> None:
        """Raise `captcha_invalid` unless the answer is right, unexpired and unused. Spends the nonce."""
        try:
            body = json.loads(self._fernet.decrypt(token.encode()))
            nonce, expected, expires = str(body["n"]), str(body["h"]), int(body["e"])
        except (InvalidToken, ValueError, KeyError, TypeError):
            raise captcha_wrong() from None
        now = clock.now()
        if now.timestamp() > expires:
            raise captcha_wrong()
        spent = await session.execute(
            insert(captcha_nonces)
            .values(nonce=nonce, expires_at=now.fromtimestamp(expires, now.tzinfo))
            .on_conflict_do_nothing()
            .returning(captcha_nonces.c.nonce)
        )
        if spent.first() is None:
            raise captcha_wrong()
        # Spend the nonce even when the answer is wrong: one guess per image.
        await session.commit()
        await session.begin()
        if not hmac.compare_digest(expected, self._answer_hash(nonce, answer or "")):
            raise captcha_wrong()


async def forget_expired_nonces(session: AsyncSession, *, clock: Clock) -> int:
    result = await session.execute(delete(captcha_nonces).where(captcha_nonces.c.expires_at < clock.now()))
    return cast(CursorResult[Any], result).rowcount or 0  # a DELETE's result has a row count
