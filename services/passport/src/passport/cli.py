"""passport-admin: operations commands.

    passport-admin migrate
    passport-admin dlq list | show ID | replay [ID…] | discard ID --reason …   dead letters (audited)
    passport-admin create-staff --email t@school.cn --role teacher --school 99101   (password from stdin or --password-env)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from cet_shared import dlq_admin
from cet_shared.db.migrations import upgrade
from cet_shared.problems import Problem

MIGRATIONS = Path(__file__).parent / "db" / "migrations"


def migrate(database_url: str | None = None) -> None:
    from passport.settings import PassportSettings

    upgrade(database_url or PassportSettings().database_url, MIGRATIONS)


async def _create_staff(email: str, password: str, roles: set[str], school: str | None) -> str:
    from passport.bootstrap import bootstrap
    from passport.domain.accounts import staff_roles
    from passport.service.registration import create_staff

    ctx = bootstrap()
    try:
        return await create_staff(
            ctx.unit_of_work(), email=email, password=password, roles=staff_roles(roles), school_code=school, passwords=ctx.passwords, clock=ctx.clock
        )
    finally:
        await ctx.close()


def _dlq(args: argparse.Namespace) -> int:
    from passport.bootstrap import bootstrap
    from passport.events.consumers import build_consumers

    return dlq_admin.run(args, bootstrap, build_consumers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="passport-admin")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    staff = commands.add_parser("create-staff", help="create a staff account (teacher, support, ops)")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", action="append", required=True, choices=["teacher", "support", "ops"])
    staff.add_argument("--school", help="5-digit school code (teachers)")
    staff.add_argument("--password-env", help="read the password from this environment variable instead of a prompt")
    dlq_admin.add_commands(commands)
    args = parser.parse_args(argv)

    if args.command == "dlq":
        return _dlq(args)
    if args.command == "migrate":
        migrate()
        print("passport: migrations applied")
        return 0
    password = os.environ.get(args.password_env, "") if args.password_env else (
        getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    )
    try:
        passport_id = asyncio.run(_create_staff(args.email, password, set(args.role), args.school))
    except (Problem, ValueError) as exc:
        print(f"error: {getattr(exc, 'title', exc)} {getattr(exc, 'detail', '') or ''}", file=sys.stderr)
        return 1
    print(passport_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
