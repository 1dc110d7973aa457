"""Registry and score import jobs (E13, E10 at national scale): the job, its staging rows (the
file's cells as text, filled by COPY while the file streams in) and its error report.

Staging tables are UNLOGGED: they are a copy of a file the importer still holds, and a crash
of PostgreSQL before the merge only means uploading it again."""

from __future__ import annotations

from sqlalchemy import CHAR, BigInteger, Column, DateTime, ForeignKey, Index, Integer, PrimaryKeyConstraint, SmallInteger, Table, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID

from eligibility.db.tables import metadata
from eligibility.domain.imports import SCORE_COLUMNS, STUDENT_COLUMNS

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),  # students | scores
    # "" for ops (any school); a teacher's school otherwise: the same file from another scope is
    # another job, because the scope changes what it may do.
    Column("scope", Text, nullable=False),
    # NULL while the file is still arriving; then the job is its content in its scope.
    Column("content_sha256", CHAR(64)),
    Column("requested_by", Text, nullable=False),
    Column("requested_role", Text, nullable=False),
    Column("requested_from", Text),
    Column("status", Text, nullable=False),  # receiving, queued, validating, merging, done, rejected
    Column("rows_read", Integer, nullable=False, server_default=text("0")),
    Column("rows_valid", Integer, nullable=False, server_default=text("0")),
    Column("rows_merged", Integer, nullable=False, server_default=text("0")),
    Column("rows_created", Integer, nullable=False, server_default=text("0")),
    Column("error_count", Integer, nullable=False, server_default=text("0")),
    # Resumption points: every staging line up to here is validated / merged (each batch commits
    # together with its point, so a worker that dies is followed by one that starts after it).
    Column("validated_through", BigInteger, nullable=False, server_default=text("0")),
    Column("merged_through", BigInteger, nullable=False, server_default=text("0")),
    # The worker running it holds a lease; a dead worker's lease runs out and another resumes.
    Column("lease_token", UUID(as_uuid=True)),
    Column("leased_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("kind", "scope", "content_sha256", name="import_jobs_content"),
)
Index("import_jobs_pending", import_jobs.c.created_at, postgresql_where=text("status IN ('queued', 'validating', 'merging')"))
Index("import_jobs_by_scope", import_jobs.c.scope, import_jobs.c.created_at)

import_errors = Table(
    "import_errors",
    metadata,
    Column("job_id", UUID(as_uuid=True), ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("line", BigInteger, nullable=False),
    Column("rule", SmallInteger, nullable=False),  # the order of the checks, within a line
    Column("field", Text, nullable=False),
    Column("message", Text, nullable=False),
)
Index("import_errors_job", import_errors.c.job_id, import_errors.c.line, import_errors.c.rule)


def _staging(name: str, columns: tuple[str, ...]) -> Table:
    return Table(
        name,
        metadata,
        Column("job_id", UUID(as_uuid=True), nullable=False),
        Column("line", BigInteger, nullable=False),
        # "class" is a keyword: the file's column is stored as class_name.
        *(Column("class_name" if c == "class" else c, Text, nullable=False) for c in columns),
        PrimaryKeyConstraint("job_id", "line", name=f"{name}_pkey"),
        prefixes=["UNLOGGED"],
    )


import_student_rows = _staging("import_student_rows", STUDENT_COLUMNS)
import_score_rows = _staging("import_score_rows", SCORE_COLUMNS)
STAGING = {"students": import_student_rows, "scores": import_score_rows}
