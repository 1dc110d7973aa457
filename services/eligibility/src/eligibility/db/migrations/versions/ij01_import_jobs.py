"""registry and score import jobs (issue 15): the job, its COPY staging rows, its error report

Revision ID: ij01
Revises: au01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "ij01"
down_revision = "au01"
branch_labels = None
depends_on = None

# The file's columns as they were when this revision was written (staging keeps them as text).
STUDENT_CELLS = (
    "province_code", "province_name", "school_code", "school_name", "campus_code", "campus_name", "campus_offers_cet6",
    "id_type", "id_number", "name", "gender", "education_level", "program_years", "entry_year", "grade", "department",
    "major", "class_name", "student_number", "remarks", "qualification_subjects", "cet6_barred",
)  # fmt: skip
SCORE_CELLS = ("ticket_number", "id_number", "name", "score", "year", "half")


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.CHAR(64)),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_role", sa.Text, nullable=False),
        sa.Column("requested_from", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        *(
            sa.Column(c, sa.Integer, nullable=False, server_default=sa.text("0"))
            for c in ("rows_read", "rows_valid", "rows_merged", "rows_created", "error_count")
        ),
        *(sa.Column(c, sa.BigInteger, nullable=False, server_default=sa.text("0")) for c in ("validated_through", "merged_through")),
        sa.Column("lease_token", UUID(as_uuid=True)),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("kind", "scope", "content_sha256", name="import_jobs_content"),
    )
    op.create_index("import_jobs_pending", "import_jobs", ["created_at"], postgresql_where=sa.text("status IN ('queued', 'validating', 'merging')"))
    op.create_index("import_jobs_by_scope", "import_jobs", ["scope", "created_at"])
    op.create_table(
        "import_errors",
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line", sa.BigInteger, nullable=False),
        sa.Column("rule", sa.SmallInteger, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("import_errors_job", "import_errors", ["job_id", "line", "rule"])
    for name, cells in (("import_student_rows", STUDENT_CELLS), ("import_score_rows", SCORE_CELLS)):
        op.create_table(
            name,
            sa.Column("job_id", UUID(as_uuid=True), nullable=False),
            sa.Column("line", sa.BigInteger, nullable=False),
            *(sa.Column(c, sa.Text, nullable=False) for c in cells),
            sa.PrimaryKeyConstraint("job_id", "line", name=f"{name}_pkey"),
            prefixes=["UNLOGGED"],
        )


def downgrade() -> None:
    for name in ("import_score_rows", "import_student_rows", "import_errors", "import_jobs"):
        op.drop_table(name)
