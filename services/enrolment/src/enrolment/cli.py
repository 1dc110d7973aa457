"""enrolment-admin: operations commands.

    enrolment-admin migrate | revision -m … | dlq …   the common commands (cet_shared.admin)
    enrolment-admin setup FILE.(json|yaml) [--publish]   set up an exam session end to end
    enrolment-admin publish SESSION_ID                    ExamSessionPublished
    enrolment-admin capacity OFFERING_ID N                change a capacity live (N11)
    enrolment-admin arrange SESSION_ID                    rooms, seats, ticket numbers (N13)
    enrolment-admin show SESSION_ID                       offerings with capacity and seats held

Times in a session file may be relative ('now-1d', 'today+30d', 'today+30d@09:00', Asia/Shanghai),
so the demo session (src/enrolment/demo/session.yaml) is always open today.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cet_shared.admin import ServiceAdmin
from cet_shared.problems import Problem

ADMIN = ServiceAdmin("enrolment", settings="enrolment.settings:EnrolmentSettings")
migrate = ADMIN.migrate
DEMO_SESSION = Path(__file__).parent / "demo" / "session.yaml"


def load_session_file(path: Path, *, now: datetime | None = None):  # noqa: ANN201 - a SessionSpec
    from enrolment.service.session_specs import SessionSpec, resolve_relative

    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return SessionSpec.model_validate(resolve_relative(document, now or datetime.now(UTC)))


def _run(action: Callable[[Any], Awaitable[Any]]) -> Any:
    from enrolment.bootstrap import bootstrap

    async def main() -> Any:
        ctx = bootstrap()
        try:
            return await action(ctx)
        finally:
            await ctx.close()

    return asyncio.run(main())


async def _arrange(ctx: Any, session_id: uuid.UUID) -> int:
    """The worker's own job, run here to its end (a run already queued is the same job)."""
    from enrolment.service import arrangement_job

    job, _ = await arrangement_job.request_arrangement(ctx.unit_of_work, ctx.clock, session_id, requested_by="enrolment-admin")
    done = await arrangement_job.finish(ctx.unit_of_work, ctx.clock, arrangement_job.ArrangementRun.of(ctx.settings), job.id)
    if done.status == "failed":
        raise Problem(409, "arrangement_failed", done.error or "编排失败")
    return done.arranged


def main(argv: list[str] | None = None) -> int:
    from enrolment.service import sessions

    parser, commands = ADMIN.parser()
    setup = commands.add_parser("setup", help="set up an exam session from a JSON/YAML file")
    setup.add_argument("file", type=Path, nargs="?", default=DEMO_SESSION)
    setup.add_argument("--publish", action="store_true")
    commands.add_parser("publish").add_argument("session_id", type=uuid.UUID)
    capacity = commands.add_parser("capacity")
    capacity.add_argument("offering_id", type=uuid.UUID)
    capacity.add_argument("capacity", type=int)
    commands.add_parser("arrange").add_argument("session_id", type=uuid.UUID)
    commands.add_parser("show").add_argument("session_id", type=uuid.UUID)
    args = parser.parse_args(argv)

    if (done := ADMIN.run_common(args)) is not None:
        return done
    try:
        if args.command == "setup":
            spec = load_session_file(args.file)

            async def create(ctx: Any) -> uuid.UUID:
                session_id = await sessions.create_session(ctx.unit_of_work, spec)
                if args.publish:
                    await sessions.publish(ctx.unit_of_work, ctx.clock, session_id)
                return session_id

            print(_run(create))
        elif args.command == "publish":
            _run(lambda ctx: sessions.publish(ctx.unit_of_work, ctx.clock, args.session_id))
            print("published")
        elif args.command == "capacity":
            print(_run(lambda ctx: sessions.set_capacity(ctx.unit_of_work, ctx.clock, ctx.settings.unpaid_lifetime, args.offering_id, args.capacity)))
        elif args.command == "arrange":
            print(f"arranged {_run(lambda ctx: _arrange(ctx, args.session_id))} subjects")
        elif args.command == "show":
            overview = _run(lambda ctx: sessions.session_overview(ctx.sessions, args.session_id))
            print(json.dumps(overview, default=str, ensure_ascii=False, indent=2))
    except Problem as exc:
        print(f"error: {exc.title} {exc.detail or ''}", file=sys.stderr)
        return 1
    except (ValidationError, OSError, yaml.YAMLError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
