"""eligibility-admin: operations commands.

    eligibility-admin migrate | revision -m … | dlq …   the common commands (cet_shared.admin)
    eligibility-admin import-students FILE     (CSV, UTF-8; see demo/students.csv for the columns)
    eligibility-admin import-scores FILE       (CSV: ticket_number,id_number,name,score,year,half)

The file streams to the import job's staging table (any size) and the job runs here to its end.
A file with any error imports nothing; every row's error is printed (row, column, reason).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from cet_shared.admin import ServiceAdmin
from cet_shared.problems import Problem

ADMIN = ServiceAdmin("eligibility", settings="eligibility.settings:EligibilitySettings")
migrate = ADMIN.migrate
DEMO = Path(__file__).parent / "demo"


async def _import(kind: str, path: Path):  # noqa: ANN202
    from eligibility.bootstrap import bootstrap
    from eligibility.domain.import_jobs import ImportKind
    from eligibility.service.import_jobs import finish, receive_file
    from eligibility.service.registry import result_of

    async def chunks() -> AsyncIterator[bytes]:
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                yield chunk

    ctx = bootstrap()
    try:
        jobs = ctx.unit_of_work().imports
        job, _ = await receive_file(jobs, ctx.clock, ImportKind(kind), chunks(), scope=None, max_bytes=ctx.settings.max_import_bytes)
        return await result_of(jobs, await finish(jobs, ctx.clock, job.id, ctx.import_pace()))
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
    if not args.file.is_file():
        print(f"error: cannot read {args.file}", file=sys.stderr)
        return 1
    try:
        result = asyncio.run(_import("students" if args.command == "import-students" else "scores", args.file))
    except Problem as problem:
        print(f"error: {problem.title}", file=sys.stderr)
        for error in problem.extra.get("errors", []):
            print(f"  row {error['row']}, {error['field'] or '-'}: {error['message']}", file=sys.stderr)
        return 1
    print(f"imported {result.rows} rows: {result.created} new, {result.updated} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
