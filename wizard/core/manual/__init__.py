"""The manual path: the dashboard's SQL editor, one migration at a time, checked and recorded.

For users with neither a database password nor an access token. The engine's part: the SQL to
paste (split at statement boundaries when a file is too large for one paste), each paste one query
that runs the file and records it in the migration history in the same transaction, and stops
before anything runs when the history already holds it (``paste``); the export of every
migration to files, with pre-flight's findings in its index (``export``); the check of what a paste
created without any database credential, through the project's REST API, PostgREST, with the anon
or service key (``rest``), or through a connection (``presence``); the reading of an error the
dashboard showed (``editor``); the record of a migration applied by hand, and the progress kept
between runs (``progress``).
"""

from wizard.core.manual.editor import read_error
from wizard.core.manual.export import RECORDS_ITSELF, ExportRefused, export
from wizard.core.manual.paste import (
    ALREADY_APPLIED,
    MAX_PART_BYTES,
    MAX_PART_STATEMENTS,
    Part,
    already_applied,
    parts,
    paste,
    paste_offset,
    sql_editor_url,
)
from wizard.core.manual.presence import Presence, check, creates, tables
from wizard.core.manual.progress import PROGRESS_FILE, confirm, load_progress, next_to_run, target_key
from wizard.core.manual.rest import (
    EXISTS,
    EXISTS_WITHOUT_GRANTS,
    MISSING,
    RestApi,
    RestError,
    rest_check,
    rest_missing_columns,
    rest_rows_found,
    rest_table_state,
)

__all__ = [
    "ALREADY_APPLIED", "EXISTS", "EXISTS_WITHOUT_GRANTS", "MAX_PART_BYTES", "MAX_PART_STATEMENTS", "MISSING",
    "PROGRESS_FILE", "RECORDS_ITSELF", "ExportRefused", "Part", "Presence", "RestApi", "RestError",
    "already_applied", "check", "confirm", "creates", "export", "load_progress", "next_to_run", "parts", "paste",
    "paste_offset", "read_error", "rest_check", "rest_missing_columns", "rest_rows_found", "rest_table_state",
    "sql_editor_url", "tables", "target_key",
]
