"""eligibility-admin: operations commands.

    eligibility-admin migrate | revision -m … | dlq …   the common commands (cet_shared.admin)
    eligibility-admin import-students FILE     (CSV, UTF-8; see demo/students.csv for the columns)
    eligibility-admin import-scores FILE       (CSV: ticket_number,id_number,name,score,year,half)

A file with any error imports nothing; every row's error is printed (row, column, reason).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cet_shared.admin import ServiceAdmin
from cet_shared.problems import Problem

ADMIN = ServiceAdmin("eligibility", settings="eligibility.settings:EligibilitySettings")
migrate = ADMIN.migrate
DEMO = Path(__file__).parent / "demo"


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


def main(argv: list[str] | None = None) -> int:
    parser, commands = ADMIN.parser()
    for name, what in (("import-students", "the student registry (provinces, schools, campuses, students)"), ("import-scores", "CET4 written scores")):
        command = commands.add_parser(name, help=f"import {what} from a CSV file; all rows or none")
        command.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if (done := ADMIN.run_common(args)) is not None:
        return done
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
