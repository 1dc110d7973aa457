"""Async PostgreSQL access shared by the services: engine, sessions, unit of work, common tables."""

from cet_shared.db.engine import create_engine, create_session_factory, normalise_async_url
from cet_shared.db.unit_of_work import UnitOfWork

__all__ = ["UnitOfWork", "create_engine", "create_session_factory", "normalise_async_url"]
