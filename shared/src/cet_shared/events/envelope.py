"""The envelope every event travels in, and the registry of event types.

A payload class declares its `event_type`, `version` and `topic`; the envelope carries it as JSON.
Contracts are versioned: within a version fields may be added (consumers ignore unknown ones),
never changed or removed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

_REGISTRY: dict[tuple[str, int], type[Event]] = {}


class Event(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            _REGISTRY[(cls.event_type, cls.version)] = cls


def event_class(event_type: str, version: int) -> type[Event] | None:
    return _REGISTRY.get((event_type, version))


def event_types() -> dict[tuple[str, int], type[Event]]:
    return dict(_REGISTRY)


class EventEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    key: str
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, *, key: str, producer: str, occurred_at: datetime | None = None) -> EventEnvelope:
        return cls(
            event_type=event.event_type,
            version=event.version,
            producer=producer,
            key=key,
            payload=event.model_dump(mode="json"),
            occurred_at=occurred_at or datetime.now(UTC),
        )

    def open(self) -> Event:
        """The typed payload; raises KeyError for an event type this code does not know."""
        cls = event_class(self.event_type, self.version)
        if cls is None:
            raise KeyError(f"unknown event {self.event_type} v{self.version}")
        return cls.model_validate(self.payload)
