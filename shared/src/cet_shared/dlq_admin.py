"""`<service>-admin dlq list | show ID | replay [ID…] | discard ID --reason …` — one implementation.

A replay applies a key's held events in order — the dead one first, then those parked behind it —
each in its own transaction through the consumer's inbox (applied once, even if it was applied
before), and stops at the first that fails again (it stays dead, with the new reason). A discard
drops one dead event, recording who and why, then applies the events parked behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cet_shared import dead_letters
from cet_shared.messaging import EventConsumer
from cet_shared.resilience import is_transient

log = logging.getLogger("cet.dlq")


@dataclass
class Replay:
    applied: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    stopped_at: int | None = None
    reason: str | None = None


async def replay_key(consumer: EventConsumer, key: str | None, *, by: str, dead_too: bool = True) -> Replay:
    """Apply the key's held events oldest first; `dead_too=False` stops at a dead one (discard)."""
    outcome = Replay()
    while True:
        async with consumer.unit_of_work() as uow:
            if key is not None:
                await dead_letters.lock_key(uow.session, consumer.group, key)
            row = await dead_letters.next_held(uow.session, consumer.group, key)
            if row is None or (row["state"] == "dead" and not dead_too):
                return outcome
            try:
                async with uow.session.begin_nested():  # a failing handler leaves the lock and the row
                    applied = await consumer.apply_replayed(uow, row["body"])
            except Exception as exc:
                if is_transient(exc):
                    raise
                outcome.stopped_at, outcome.reason = row["id"], f"{type(exc).__name__}: {exc}"
                await dead_letters.mark_dead(uow.session, row["id"], f"replay failed: {outcome.reason}")
                await uow.commit()
                return outcome
            await dead_letters.resolve(uow.session, row["id"], "replayed", by=by, resolution="applied" if applied else "already applied (inbox)")
            await uow.commit()
        (outcome.applied if applied else outcome.duplicates).append(row["id"])


async def replay(consumers: Sequence[EventConsumer], ids: Sequence[int], *, by: str) -> dict[int | str, Any]:
    """Replay the keys of the given dead events, or of every dead event when none is given."""
    by_group = {c.group: c for c in consumers}
    work: list[tuple[EventConsumer, str | None]] = []
    async with consumers[0].unit_of_work() as uow:
        if ids:
            for row_id in ids:
                row = await dead_letters.get(uow.session, row_id)
                if row is None or row["state"] != "dead" or row["consumer"] not in by_group:
                    raise LookupError(f"no dead letter {row_id} for {sorted(by_group)}")
                work.append((by_group[row["consumer"]], row["key"]))
        else:
            for consumer in consumers:
                work += [(consumer, key) for key in await dead_letters.dead_keys(uow.session, consumer.group)]
    results: dict[int | str, Any] = {}
    for consumer, key in dict.fromkeys(work):
        outcome = await replay_key(consumer, key, by=by)
        log.warning(
            "dlq replay by %s: %s key %s: applied %s, duplicates %s, stopped at %s",
            by,
            consumer.group,
            key,
            outcome.applied,
            outcome.duplicates,
            outcome.stopped_at,
        )
        results[f"{consumer.group}/{key}"] = outcome.__dict__
    return results


async def discard(consumers: Sequence[EventConsumer], row_id: int, *, by: str, reason: str) -> dict[str, Any]:
    by_group = {c.group: c for c in consumers}
    async with consumers[0].unit_of_work() as uow:
        row = await dead_letters.get(uow.session, row_id)
        if row is None or row["state"] != "dead" or row["consumer"] not in by_group:
            raise LookupError(f"no dead letter {row_id}")
        if row["key"] is not None:
            await dead_letters.lock_key(uow.session, row["consumer"], row["key"])
        await dead_letters.resolve(uow.session, row_id, "discarded", by=by, resolution=reason)
        await uow.commit()
    log.warning("dlq discard by %s: %s event %s (%s) of key %s: %s", by, row["consumer"], row_id, row["event_type"], row["key"], reason)
    outcome = await replay_key(by_group[row["consumer"]], row["key"], by=by, dead_too=False)
    return {"discarded": row_id, "then_applied": outcome.applied, "duplicates": outcome.duplicates}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser("dlq", help="dead letters: list, show, replay, discard")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    actions.add_parser("list", help="dead events and how many are parked behind each")
    actions.add_parser("show").add_argument("id", type=int)
    replaying = actions.add_parser("replay", help="apply dead events (all when no ID) and those parked behind them")
    replaying.add_argument("ids", type=int, nargs="*")
    discarding = actions.add_parser("discard", help="drop a dead event (audited), then apply those parked behind it")
    discarding.add_argument("id", type=int)
    discarding.add_argument("--reason", required=True)
    for parser in (replaying, discarding):
        parser.add_argument("--by", default=None, help="who acts (default: the OS user)")


def run(args: argparse.Namespace, bootstrap: Callable[[], Any], build_consumers: Callable[[Any], list[EventConsumer]]) -> int:
    """The `dlq` command of a service's admin CLI; prints JSON."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    async def main() -> Any:
        ctx = bootstrap()
        try:
            consumers = build_consumers(ctx)
            async with consumers[0].unit_of_work() as uow:
                if args.dlq_command == "list":
                    return await dead_letters.listing(uow.session)
                if args.dlq_command == "show":
                    row = await dead_letters.get(uow.session, args.id)
                    if row is None:
                        raise LookupError(f"no dead letter {args.id}")
                    return dead_letters.detail(row)
            by = args.by or getpass.getuser()
            if args.dlq_command == "replay":
                return await replay(consumers, args.ids, by=by)
            return await discard(consumers, args.id, by=by, reason=args.reason)
        finally:
            await ctx.close()

    try:
        print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2, default=str))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
