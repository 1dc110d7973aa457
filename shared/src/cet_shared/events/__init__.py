"""Event contracts shared by producers and consumers (architecture.md, "Event catalogue")."""

from cet_shared.events.envelope import Event, EventEnvelope, event_class, event_types

__all__ = ["Event", "EventEnvelope", "event_class", "event_types"]
