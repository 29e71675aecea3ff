from opencpms_admin.tables import metadata
from opencpms_db.migrations import run_env

run_env(metadata)
