from cet_shared.db.migrations import run_migrations_from_env
from cet_shared.db.tables import COMMON_METADATA

# The common history on its own (shared's tests); services run it as part of theirs.
run_migrations_from_env(COMMON_METADATA)
