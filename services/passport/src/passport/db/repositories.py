"""The use cases' ports (passport.service.ports) on PostgreSQL, inside one session's transaction."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cet_shared import audit, ratelimit
from cet_shared.captcha import CaptchaSeal
from cet_shared.clock import Clock
from cet_shared.ratelimit import RateLimit
from passport.db.tables import accounts, link_tokens, mail_queue, refresh_tokens
from passport.domain.accounts import Account, Profile, normalise_email
from passport.domain.links import LinkToken
from passport.domain.sessions import RefreshToken
from passport.mail_templates import Mail


def _account(row: Any) -> Account:
    return Account(
        passport_id=row.passport_id,
        email=row.email,
        password_hash=row.password_hash,
        profile=Profile(phone=row.phone, id_type=row.id_type, id_number=row.id_number, name=row.name),
        roles=tuple(row.roles),
        school_code=row.school_code,
        email_verified_at=row.email_verified_at,
        token_version=row.token_version,
    )


class SqlAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_email(self, email: str) -> Account | None:
        row = (await self._session.execute(select(accounts).where(accounts.c.email_normalised == normalise_email(email)))).first()
        return _account(row) if row else None

    async def get(self, passport_id: str, *, for_update: bool = False) -> Account | None:
        query = select(accounts).where(accounts.c.passport_id == passport_id)
        row = (await self._session.execute(query.with_for_update() if for_update else query)).first()
        return _account(row) if row else None

    async def add(self, account: Account, *, now: datetime) -> bool:
        profile = account.profile
        try:
            async with self._session.begin_nested():  # a taken email undoes only this insert
                await self._session.execute(
                    insert(accounts).values(
                        passport_id=account.passport_id,
                        email=account.email,
                        email_normalised=account.email_normalised,
                        email_verified_at=account.email_verified_at,
                        password_hash=account.password_hash,
                        phone=profile.phone,
                        id_type=profile.id_type,
                        id_number=profile.id_number,
                        name=profile.name,
                        roles=list(account.roles),
                        school_code=account.school_code,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def email_taken(self, email: str, *, other_than: str) -> bool:
        taken = await self._session.scalar(
            select(accounts.c.passport_id).where(accounts.c.email_normalised == normalise_email(email), accounts.c.passport_id != other_than)
        )
        return taken is not None

    async def set_password_hash(self, passport_id: str, password_hash: str) -> None:
        await self._session.execute(update(accounts).where(accounts.c.passport_id == passport_id).values(password_hash=password_hash))

    async def change_password(self, passport_id: str, password_hash: str, *, now: datetime) -> int:
        version = await self._session.scalar(
            update(accounts)
            .where(accounts.c.passport_id == passport_id)
            .values(password_hash=password_hash, token_version=accounts.c.token_version + 1, updated_at=now)
            .returning(accounts.c.token_version)
        )
        assert version is not None, f"no account {passport_id}"
        return int(version)

    async def set_profile(self, passport_id: str, profile: Profile, *, now: datetime) -> None:
        await self._session.execute(
            update(accounts)
            .where(accounts.c.passport_id == passport_id)
            .values(phone=profile.phone, id_type=profile.id_type, id_number=profile.id_number, name=profile.name, updated_at=now)
        )

    async def set_email(self, passport_id: str, email: str, *, now: datetime) -> bool:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    update(accounts)
                    .where(accounts.c.passport_id == passport_id)
                    .values(email=email, email_normalised=normalise_email(email), email_verified_at=now, updated_at=now)
                )
        except IntegrityError:
            return False
        return True

    async def mark_email_verified(self, passport_id: str, *, now: datetime) -> None:
        await self._session.execute(update(accounts).where(accounts.c.passport_id == passport_id).values(email_verified_at=now))


class SqlLinkTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link: LinkToken) -> None:
        await self._session.execute(
            insert(link_tokens).values(
                token_hash=link.token_hash, passport_id=link.passport_id, purpose=link.purpose, email=link.email, expires_at=link.expires_at
            )
        )

    async def spend(self, token_hash: str, purpose: str, *, now: datetime) -> LinkToken | None:
        t = link_tokens
        row = (
            await self._session.execute(
                update(t)
                .where(t.c.token_hash == token_hash, t.c.purpose == purpose, t.c.used_at.is_(None), t.c.expires_at > now)
                .values(used_at=now)
                .returning(t.c.token_hash, t.c.passport_id, t.c.purpose, t.c.expires_at, t.c.email)
            )
        ).first()
        return LinkToken(row.token_hash, row.passport_id, row.purpose, row.expires_at, row.email) if row else None


def _refresh(row: Any) -> RefreshToken:
    return RefreshToken(**{column: getattr(row, column) for column in refresh_tokens.c.keys()})  # noqa: SIM118 - a ColumnCollection iterates columns, not names


class SqlRefreshTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: RefreshToken) -> None:
        await self._session.execute(insert(refresh_tokens).values(**asdict(token)))

    async def get_for_update(self, token_hash: str) -> RefreshToken | None:
        # The lock makes two refreshes with one token take turns: the second sees it used.
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
        row = (await self._session.execute(query)).first()
        return _refresh(row) if row else None

    async def mark_used(self, token_hash: str, *, now: datetime) -> None:
        await self._session.execute(update(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).values(used_at=now))

    async def revoke_family(self, family_id: str, *, now: datetime) -> list[RefreshToken]:
        t = refresh_tokens
        await self._session.execute(update(t).where(t.c.family_id == family_id, t.c.revoked_at.is_(None)).values(revoked_at=now))
        rows = (await self._session.execute(select(t).where(t.c.family_id == family_id))).all()
        return [_refresh(row) for row in rows]

    async def revoke_account(self, passport_id: str, *, now: datetime) -> None:
        t = refresh_tokens
        await self._session.execute(update(t).where(t.c.passport_id == passport_id, t.c.revoked_at.is_(None)).values(revoked_at=now))
        # Expired rows of this account serve no check any more: each account sweeps its own.
        await self._session.execute(delete(t).where(t.c.passport_id == passport_id, t.c.expires_at < now))


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def queue_mail(self, mail: Mail) -> None:
        # Queued with the change that causes it; the worker sends it (passport.mail.MailSender).
        await self._session.execute(insert(mail_queue).values(to_address=mail.to, subject=mail.subject, body=mail.body))


class SqlGuards:
    def __init__(self, session: AsyncSession, captcha: CaptchaSeal, clock: Clock) -> None:
        self._session = session
        self._captcha = captcha
        self._clock = clock

    async def verify_captcha(self, token: str, answer: str) -> None:
        await self._captcha.verify(self._session, token, answer, clock=self._clock)

    async def check(self, *checks: tuple[RateLimit, str]) -> None:
        await ratelimit.check_all(self._session, checks, clock=self._clock)

    async def record(self, *hits: tuple[RateLimit, str]) -> None:
        await ratelimit.record_all(self._session, hits, clock=self._clock)

    async def consume(self, limit: RateLimit, subject: str) -> None:
        await limit.consume(self._session, subject, clock=self._clock)


class SqlAudit:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        kind: str,
        subject: tuple[str, str],
        *,
        before: Any = None,
        after: Any = None,
        school: str | None = None,
        province: str | None = None,
    ) -> None:
        await audit.record(self._session, kind, subject, before=before, after=after, school=school, province=province)
