"""Static checks of the migration files, before any SQL runs.

Findings have a severity: ``error`` (it will certainly fail, or it would break the wizard's
guarantees: nothing is applied while there is one), ``warning`` (it can hurt: read it before you go
on) or ``info``.

The checks live in the modules of this package, each name importable from here:

- ``findings``: the Finding type, the severities, and the checks of each migration's statements
  (check_migration, check, blocking);
- ``walk``: the dependency walk (dependencies: uses of what nothing before creates);
- ``exists``: what exists before them, asked of the database or of the baseline (existing);
- ``extensions``: what well-known extensions create, and those the server lacks (missing_extensions,
  unknown_extensions, SUPABASE_EXTENSIONS);
- ``folder``: the folder alone, without a database (offline, seed_findings);
- ``locks``: long locks on big tables (big_table_locks).
"""

from wizard.core.preflight.exists import _EXISTS_SQL
from wizard.core.preflight.extensions import (
    _CONTRIB,
    _EXTENSION_NAMES,
    _EXTENSION_SCHEMAS,
    _EXTENSIONS_SQL,
    _FIXED_SCHEMA,
    _PACKAGES,
    SUPABASE_EXTENSIONS,
    _ExtensionObjects,
    _missing_extension_message,
    missing_extensions,
    unknown_extensions,
)
from wizard.core.preflight.findings import (
    ERROR,
    INFO,
    WARNING,
    Finding,
    _destructive,
    _from_problem,
    _short,
    _unchecked,
    blocking,
    check,
    check_migration,
)
from wizard.core.preflight.folder import offline, seed_findings
from wizard.core.preflight.locks import _LOCKING, BIG_TABLE_ROWS, big_table_locks
from wizard.core.preflight.walk import (
    _IF_NOT_EXISTS,
    _RELATION_KINDS,
    _SUPABASE_SCHEMAS,
    DEPENDENCY_CODES,
    _columns_follow_their_table,
    _compat_provides,
    _dependency_key,
    _learn,
    _runs,
    _supabase_owner,
    _Walk,
    dependencies,
)

# Every name the single module had, importable from the package as before.
__all__ = [
    "_CONTRIB",
    "_EXTENSION_NAMES",
    "_EXTENSION_SCHEMAS",
    "_EXTENSIONS_SQL",
    "_FIXED_SCHEMA",
    "_PACKAGES",
    "SUPABASE_EXTENSIONS",
    "_ExtensionObjects",
    "_missing_extension_message",
    "missing_extensions",
    "unknown_extensions",
    "ERROR",
    "INFO",
    "WARNING",
    "Finding",
    "_destructive",
    "_from_problem",
    "_short",
    "_unchecked",
    "blocking",
    "check",
    "check_migration",
    "offline",
    "seed_findings",
    "_LOCKING",
    "BIG_TABLE_ROWS",
    "big_table_locks",
    "_EXISTS_SQL",
    "_IF_NOT_EXISTS",
    "_RELATION_KINDS",
    "_SUPABASE_SCHEMAS",
    "DEPENDENCY_CODES",
    "_columns_follow_their_table",
    "_compat_provides",
    "_dependency_key",
    "_learn",
    "_runs",
    "_supabase_owner",
    "_Walk",
    "dependencies",
]
