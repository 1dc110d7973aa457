"""P5 verify the email, P6 change it: the new address becomes the account's only once its link is followed."""

from __future__ import annotations

from cet_shared.clock import Clock
from cet_shared.events.contracts import AccountEmailChanged
from passport import mail_templates
from passport.domain.accounts import hash_opaque_token, new_opaque_token, normalise_email
from passport.domain.links import EMAIL_VERIFICATION, LinkBuilder, LinkToken
from passport.service.ports import PassportUnitOfWork
from passport.service.problems import email_already_verified, email_taken, link_invalid
from passport.settings import PassportSettings


async def queue_verification(uow: PassportUnitOfWork, passport_id: str, email: str, *, clock: Clock, links: LinkBuilder, settings: PassportSettings) -> None:
    """A link to verify `email` for the account, mailed to that address, in the caller's transaction."""
    token, token_hash = new_opaque_token()
    lifetime = settings.email_verification_lifetime
    await uow.links.add(LinkToken(token_hash, passport_id, EMAIL_VERIFICATION, clock.now() + lifetime, email=email))
    await uow.outbox.queue_mail(mail_templates.email_verification(email, links.email_verification(token), valid_for=lifetime))


async def verify_email(uow: PassportUnitOfWork, token: str, *, clock: Clock) -> None:
    """P5/P6: the link in the mail marks the address verified (and, after a change, makes it the account's email)."""
    async with uow:
        now = clock.now()
        spent = await uow.links.spend(hash_opaque_token(token), EMAIL_VERIFICATION, now=now)
        account = await uow.accounts.get(spent.passport_id, for_update=True) if spent else None
        if spent is None or account is None or spent.email is None:
            raise link_invalid()
        if normalise_email(spent.email) == account.email_normalised:
            await uow.accounts.mark_email_verified(account.passport_id, now=now)
        else:
            if not await uow.accounts.set_email(account.passport_id, spent.email, now=now):
                raise email_taken()
            event = AccountEmailChanged(passport_id=account.passport_id, old_email=account.email, email=spent.email, changed_at=now)
            await uow.publish(event, key=account.passport_id)
        await uow.commit()


async def resend_verification(uow: PassportUnitOfWork, passport_id: str, *, clock: Clock, links: LinkBuilder, settings: PassportSettings) -> None:
    async with uow:
        account = await uow.accounts.get(passport_id)
        assert account is not None, "the caller's token names an account"
        if account.email_verified_at is not None:
            raise email_already_verified()
        await queue_verification(uow, passport_id, account.email, clock=clock, links=links, settings=settings)
        await uow.commit()


async def request_email_change(
    uow: PassportUnitOfWork,
    passport_id: str,
    new_email: str,
    *,
    captcha_token: str,
    captcha_answer: str,
    clock: Clock,
    links: LinkBuilder,
    settings: PassportSettings,
) -> None:
    async with uow:
        await uow.guards.verify_captcha(captcha_token, captcha_answer)
        address = new_email.strip()
        if await uow.accounts.email_taken(address, other_than=passport_id):
            # Same answer as for a free address (no enumeration); the address's owner is told.
            await uow.outbox.queue_mail(mail_templates.email_change_refused(address))
        else:
            await queue_verification(uow, passport_id, address, clock=clock, links=links, settings=settings)
        await uow.commit()
