"""passport-admin: operations commands.

passport-admin migrate | revision -m … | dlq …   the common commands (cet_shared.admin)
passport-admin create-staff --email t@school.cn --role teacher --school 99101   (password from stdin or --password-env)
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys

from cet_shared.admin import ServiceAdmin
from cet_shared.problems import Problem

ADMIN = ServiceAdmin("passport", settings="passport.settings:PassportSettings")
migrate = ADMIN.migrate


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


def main(argv: list[str] | None = None) -> int:
    parser, commands = ADMIN.parser()
    staff = commands.add_parser("create-staff", help="create a staff account (teacher, support, ops)")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", action="append", required=True, choices=["teacher", "support", "ops"])
    staff.add_argument("--school", help="5-digit school code (teachers)")
    staff.add_argument("--password-env", help="read the password from this environment variable instead of a prompt")
    args = parser.parse_args(argv)

    if (done := ADMIN.run_common(args)) is not None:
        return done
    password = (
        os.environ.get(args.password_env, "")
        if args.password_env
        else (getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n"))
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
