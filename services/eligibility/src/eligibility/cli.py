"""eligibility-admin: operations commands.

    eligibility-admin migrate
    eligibility-admin dlq list | show ID | replay [ID…] | discard ID --reason …   dead letters (audited)
    eligibility-admin import-students FILE     (CSV, UTF-8; see demo/students.csv for the columns)
    eligibility-admin import-scores FILE       (CSV: ticket_number,id_number,name,score,year,half)

A file with any error imports nothing; every row's error is printed (row, column, reason).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cet_shared import dlq_admin
from cet_shared.db.migrations import upgrade
from cet_shared.problems import Problem

MIGRATIONS = Path(__file__).parent / "db" / "migrations"
DEMO = Path(__file__).parent / "demo"


def migrate(database_url: str | None = None) -> None:
    from eligibility.settings import EligibilitySettings

    upgrade(database_url or EligibilitySettings().database_url, MIGRATIONS)


async def _import(kind: str, text: str):  # noqa: ANN202
    from eligibility.bootstrap import bootstrap
    from eligibility.service.registry import import_scores, import_students

    ctx = bootstrap()
    try:
        if kind == "students":
            return await import_students(ctx.unit_of_work(), ctx.clock, text, school_scope=None)
        return await import_scores(ctx.unit_of_work(), ctx.clock, text)
    finally:
        await ctx.close()


def _dlq(args: argparse.Namespace) -> int:
    from eligibility.bootstrap import bootstrap
    from eligibility.events.consumers import build_consumers

    return dlq_admin.run(args, bootstrap, build_consumers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eligibility-admin")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations")
    for name, what in (("import-students", "the student registry (provinces, schools, campuses, students)"), ("import-scores", "CET4 written scores")):
        command = commands.add_parser(name, help=f"import {what} from a CSV file; all rows or none")
        command.add_argument("file", type=Path)
    dlq_admin.add_commands(commands)
    args = parser.parse_args(argv)

    if args.command == "dlq":
        return _dlq(args)
    if args.command == "migrate":
        migrate()
        print("eligibility: migrations applied")
        return 0
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        result = asyncio.run(_import("students" if args.command == "import-students" else "scores", text))
    except Problem as problem:
        print(f"error: {problem.title}", file=sys.stderr)
        for error in problem.extra.get("errors", []):
            print(f"  row {error['row']}, {error['field'] or '-'}: {error['message']}", file=sys.stderr)
        return 1
    print(f"imported {result.rows} rows: {result.created} new, {result.updated} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
