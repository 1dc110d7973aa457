"""Outgoing mail: queued in the business transaction (passport.db.repositories.SqlOutbox),
delivered by the worker over SMTP."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.clock import Clock
from passport.db.tables import mail_queue


class MailSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, host: str, port: int, sender: str, clock: Clock) -> None:
        self._sessions = sessions
        self.host = host
        self.port = port
        self._sender = sender
        self._clock = clock

    def _deliver(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="cet.example")
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)

    async def send_pending(self, limit: int = 50) -> int:
        """Deliver queued mail, one message per transaction: a crash re-sends at most the message
        being sent, and no row lock is held across another message's SMTP round trip. Safe with
        several workers (SKIP LOCKED). Returns how many were sent."""
        sent, after = 0, 0
        for _ in range(limit):
            async with self._sessions() as session, session.begin():
                row = (
                    await session.execute(
                        select(mail_queue)
                        .where(mail_queue.c.sent_at.is_(None), mail_queue.c.attempts < 20, mail_queue.c.id > after)
                        .order_by(mail_queue.c.id)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    )
                ).first()
                if row is None:
                    return sent
                after = row.id
                try:
                    await asyncio.to_thread(self._deliver, row.to_address, row.subject, row.body)
                except (OSError, smtplib.SMTPException) as exc:
                    await session.execute(update(mail_queue).where(mail_queue.c.id == row.id).values(attempts=row.attempts + 1, last_error=str(exc)[:500]))
                    if isinstance(exc, OSError):
                        return sent  # the mail server is away: the next run tries again
                    continue  # this message was refused: the others still go
                await session.execute(update(mail_queue).where(mail_queue.c.id == row.id).values(sent_at=self._clock.now(), attempts=row.attempts + 1))
                sent += 1
        return sent
