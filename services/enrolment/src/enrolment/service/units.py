"""What a use case receives instead of the composition root: a way to open a unit of work."""

from __future__ import annotations

from collections.abc import Callable

from cet_shared.db import UnitOfWork

UnitFactory = Callable[[], UnitOfWork]
