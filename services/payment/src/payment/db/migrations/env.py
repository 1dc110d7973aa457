from cet_shared.db.migrations import run_migrations_from_env
from payment.db.tables import metadata

run_migrations_from_env(metadata)
