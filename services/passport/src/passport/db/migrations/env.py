from cet_shared.audit import audit_log
from cet_shared.db.migrations import run_migrations_from_env
from cet_shared.db.tables import COMMON_METADATA
from passport.db.tables import metadata

# The common tables too: autogenerate must know them, or it proposes dropping them.
run_migrations_from_env([*COMMON_METADATA, audit_log.metadata, metadata])  # audit_log: each service's au01
