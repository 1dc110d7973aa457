from cet_shared.db.migrations import run_migrations_from_env
from cet_shared.db.tables import COMMON_METADATA
from eligibility.db import import_tables  # noqa: F401  (its tables join the metadata)
from eligibility.db.tables import metadata

# The common tables too (audit_log among them): autogenerate must know them, or it proposes dropping them.
run_migrations_from_env([*COMMON_METADATA, metadata])
