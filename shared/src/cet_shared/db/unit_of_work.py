"""One business transaction: the change and the events that announce it commit together."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cet_shared.events.envelope import Event
from cet_shared.outbox import enqueue


class UnitOfWork:
    """`async with UnitOfWork(sessions) as uow:` … `await uow.commit()`.

    Leaving the block without commit rolls everything back, events included: a crash at any
    point leaves no half-done state.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], producer: str) -> None:
        self._sessions = sessions
        self._producer = producer
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def publish(self, event: Event, *, key: str) -> None:
        """Write the event to the outbox inside this transaction; the relay sends it after commit."""
        await enqueue(self.session, event, key=key, producer=self._producer)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
