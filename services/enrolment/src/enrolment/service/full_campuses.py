"""This process's memory of the limited offerings it saw full (red 无, N11), so the sign-up
peak's commonest answer, seats_full, costs no database round trip.

Invalidation: `remaining` rises above 0 only in `return_seat_to_pool()` and `resize_offering()`
(migration 0007), which NOTIFY `seats_back` with the offering id: it is delivered once the seat
is visible, to every replica LISTENing (`bootstrap.EnrolmentContainer.full_campuses`); in this
process `service.seats` forgets the offering at once as well. Nothing is remembered while no
listener is up (a lost connection forgets everything), a "full" seen by a read is remembered
only if no seat came back since that read began (the generation), and never longer than
`REMEMBER_FOR` in case a notification is lost on a half-open link. The database still decides
every hold (`take_seats()`): the memory can only refuse, never sell."""

from __future__ import annotations

import time
import uuid

CHANNEL = "seats_back"
REMEMBER_FOR = 1.0  # seconds


class FullCampuses:
    def __init__(self) -> None:
        self._full: dict[uuid.UUID, float] = {}
        self._generation = 0
        self.listening = False

    def is_full(self, offering_id: uuid.UUID) -> bool:
        seen = self._full.get(offering_id)
        return self.listening and seen is not None and time.monotonic() - seen < REMEMBER_FOR

    def generation(self) -> int:
        """Taken before a read whose "full" may be remembered."""
        return self._generation

    def saw_full(self, offering_id: uuid.UUID, since_generation: int) -> None:
        if self.listening and since_generation == self._generation:
            self._full[offering_id] = time.monotonic()

    def seat_back(self, offering_id: uuid.UUID) -> None:
        self._generation += 1
        self._full.pop(offering_id, None)

    def listening_started(self) -> None:
        self._forget()
        self.listening = True

    def listening_lost(self) -> None:
        self.listening = False
        self._forget()

    def _forget(self) -> None:
        self._generation += 1
        self._full.clear()


# One per process: every container and use case of a replica shares what it saw.
MEMORY = FullCampuses()
