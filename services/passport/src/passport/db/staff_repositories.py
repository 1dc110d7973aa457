"""Staff log-in's port (passport.service.ports.StaffLogIns) on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from passport.db.tables import staff_accounts, staff_login_challenges, staff_recovery_codes
from passport.domain.seed_seal import SeedSeal
from passport.domain.staff import LoginChallenge, StaffSecondFactor


class SqlStaffLogIns:
    """The TOTP seed is sealed here on the way in and opened on the way out: the use cases see
    the seed, the database only its ciphertext (passport.domain.seed_seal)."""

    def __init__(self, session: AsyncSession, seeds: SeedSeal) -> None:
        self._session = session
        self._seeds = seeds

    async def second_factor(self, passport_id: str, *, province_code: str | None) -> StaffSecondFactor:
        s = staff_accounts
        await self._session.execute(upsert(s).values(passport_id=passport_id, province_code=province_code).on_conflict_do_nothing())
        row = (await self._session.execute(select(s).where(s.c.passport_id == passport_id).with_for_update())).one()
        seed = self._seeds.open(row.totp_seed_sealed, passport_id=passport_id) if row.totp_seed_sealed else None
        if seed is not None and not self._seeds.is_current(row.totp_seed_sealed):
            await self.set_totp_secret(passport_id, seed)  # sealed with an older key: the current one takes over (rotation)
        return StaffSecondFactor(
            passport_id=row.passport_id,
            province_code=row.province_code,
            disabled_at=row.disabled_at,
            totp_secret=seed,
            totp_confirmed_at=row.totp_confirmed_at,
            totp_last_step=row.totp_last_step,
        )

    async def set_totp_secret(self, passport_id: str, secret: str) -> None:
        await self._session.execute(
            update(staff_accounts).where(staff_accounts.c.passport_id == passport_id).values(totp_seed_sealed=self._seeds.seal(secret, passport_id=passport_id))
        )

    async def signed_in(self, passport_id: str, *, now: datetime, client: str, step: int | None, confirmed: bool) -> None:
        changes: dict[str, object] = {"last_login_at": now, "last_login_address": client}
        if step is not None:
            changes["totp_last_step"] = step
        if confirmed:
            changes["totp_confirmed_at"] = now
        await self._session.execute(update(staff_accounts).where(staff_accounts.c.passport_id == passport_id).values(**changes))

    async def replace_recovery_codes(self, passport_id: str, code_hashes: list[str]) -> None:
        await self._session.execute(delete(staff_recovery_codes).where(staff_recovery_codes.c.passport_id == passport_id))
        await self._session.execute(insert(staff_recovery_codes), [{"passport_id": passport_id, "code_hash": h} for h in code_hashes])

    async def spend_recovery_code(self, passport_id: str, code_hash: str, *, now: datetime) -> bool:
        r = staff_recovery_codes
        spent = await self._session.scalar(
            update(r).where(r.c.passport_id == passport_id, r.c.code_hash == code_hash, r.c.used_at.is_(None)).values(used_at=now).returning(r.c.code_hash)
        )
        return spent is not None

    async def add_challenge(self, challenge: LoginChallenge, *, now: datetime) -> None:
        c = staff_login_challenges
        await self._session.execute(insert(c).values(token_hash=challenge.token_hash, passport_id=challenge.passport_id, expires_at=challenge.expires_at))
        await self._session.execute(delete(c).where(c.c.expires_at < now))

    async def live_challenge(self, token_hash: str, *, now: datetime, max_failures: int) -> LoginChallenge | None:
        c = staff_login_challenges
        row = (
            await self._session.execute(
                select(c).where(c.c.token_hash == token_hash, c.c.used_at.is_(None), c.c.expires_at > now, c.c.failures < max_failures).with_for_update()
            )
        ).first()
        return LoginChallenge(row.token_hash, row.passport_id, row.expires_at, row.failures, row.used_at) if row else None

    async def challenge_failed(self, token_hash: str) -> None:
        c = staff_login_challenges
        await self._session.execute(update(c).where(c.c.token_hash == token_hash).values(failures=c.c.failures + 1))

    async def challenge_spent(self, token_hash: str, *, now: datetime) -> None:
        c = staff_login_challenges
        await self._session.execute(update(c).where(c.c.token_hash == token_hash).values(used_at=now))
