from opencpms_db.migrations import run_env
from opencpms_transactions.tables import metadata

run_env(metadata)
