from cet_shared.audit import audit_log
from cet_shared.db.migrations import run_migrations_from_env
from cet_shared.db.tables import COMMON_METADATA
import passport.db.staff_tables  # noqa: F401 - its tables join `metadata` on import
from passport.db.tables import metadata

# The common tables too: autogenerate must know them, or it proposes dropping them.
# audit_log: each service's own migration creates it (cet_shared.audit), so it is declared there.
run_migrations_from_env([*COMMON_METADATA, audit_log.metadata, metadata])
