"""What an error means to the person who met it: ``describe`` turns any exception that ends a step
or a command (an error of the engine's own, a database error, or one nobody expected) into a
``Description``: a title, the error itself, details, the advice entry and the exit code, plus the
same in one sentence for a command's last line. Both front ends show errors through it, so the
command line and the wizard agree on what an error is and what to do about it.

Never a traceback: an error nobody expected is described by its type and message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.core.errors import ExitCode, WizardError

if TYPE_CHECKING:
    import psycopg

    from wizard.core.advice import Advice
    from wizard.core.connect import ConnectError
    from wizard.core.db.https import ApiError
    from wizard.core.manual import RestError
    from wizard.core.runbase import LockHeld

THE_DATABASE = "the database"  # the target, when nothing more is known of it
INTERRUPTED = "interrupted; nothing of the migration in progress was kept."


@dataclass(frozen=True)
class Description:
    """An error, as a front end shows it."""

    kind: str  # a short stable name (the command line's JSON ``error.kind``)
    title: str  # one line of what happened
    message: str  # the error itself
    exit_code: ExitCode
    line: str  # all of it in one sentence, the fix included: what a command prints last
    details: tuple[str, ...] = ()
    advice: Advice | None = None


def plain(markdown: str, links: bool = True) -> str:
    """Markdown advice as terminal text: links as 'text (url)' (or the text alone when the links
    would not be the user's: a Supabase page without a project), no emphasis."""
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)" if links else r"\1", markdown)
    return text.replace("**", "").replace("`", "")


def describe(
    error: BaseException,
    *,
    shown: str | None = None,
    ref: str | None = None,
    rest_key: str | None = None,
    rest_url: str | None = None,
    folder_named: bool = True,
) -> Description:
    """The description of ``error``. ``shown``: how the target is shown (a masked URL, a project);
    ``ref``: the Supabase project, for the advice's links to its dashboard; ``rest_key`` and
    ``rest_url``: the API key's variable and the project URL of a REST check; ``folder_named``:
    False when the migration folder was not named but guessed (./migrations, ./supabase/migrations)."""
    import psycopg

    from wizard.core.catalog import FolderNotFound
    from wizard.core.compat import CompatError
    from wizard.core.connect import ConnectError
    from wizard.core.env import EnvFileError
    from wizard.core.db.https import ApiError
    from wizard.core.local import LocalError
    from wizard.core.manual import ExportRefused, RestError
    from wizard.core.project import ConfigError
    from wizard.core.runbase import Interrupted, LockHeld

    if isinstance(error, ConnectError):
        return _connect(error, shown, ref)
    if isinstance(error, ApiError):
        return _api(error, shown, ref)
    if isinstance(error, LockHeld):
        return _lock_held(error, ref)
    if isinstance(error, (Interrupted, KeyboardInterrupt)):
        return Description("interrupted", "The run was interrupted", "The migration in progress was rolled back.",
                           ExitCode.INTERRUPTED, INTERRUPTED)
    if isinstance(error, RestError):
        return _rest(error, ref, rest_key, rest_url)
    if isinstance(error, CompatError):
        return _own(error, "The Supabase compatibility step could not run", error.message, error.message)
    if isinstance(error, FolderNotFound):
        path = Path(error.message)
        if path.is_file():
            what = "is a file, not a folder"
        elif path.is_symlink() and not path.exists():
            what = "is a symbolic link that leads nowhere"
        else:
            what = "is not a folder" if path.exists() else "does not exist"
        hint = "" if folder_named else " (looked for ./migrations and ./supabase/migrations)"
        return _own(error, "The migration folder is gone", f"{error.message} does not exist (any more)",
                    f"the migration folder {error.message} {what}{hint}; pass --migrations DIR")
    if isinstance(error, EnvFileError):
        return _own(error, "A settings file cannot be read", error.message, error.message)
    if isinstance(error, ConfigError):
        return _own(error, "supabase/config.toml cannot be read", error.message,
                    f"{error.message}; fix the file, then run again",
                    details=("Fix the file, then check again: nothing was run.",))
    if isinstance(error, LocalError):
        return _own(error, "The local database could not start", error.message,
                    f"the local database could not start: {error.message}")
    if isinstance(error, ExportRefused):
        return _own(error, "Nothing was exported", error.message, f"nothing was exported: {error.message}")
    if isinstance(error, WizardError):
        return _own(error, _title(error.message), error.message, error.message)
    if isinstance(error, psycopg.Error):
        return _database(error, shown, ref)
    text = f"{type(error).__name__}: {error}".strip()
    return Description("unexpected", "Something unexpected went wrong", text, ExitCode.FAILED,
                       f"unexpected error ({type(error).__name__}): {error}")


def _title(message: str) -> str:
    """A title from a message: its first clause, capitalized."""
    first = message.split("; ")[0].strip()
    return first[:1].upper() + first[1:] if first else "The step stopped"


def _own(error: WizardError, title: str, message: str, line: str, details: tuple[str, ...] = ()) -> Description:
    """An error of the engine's own: its kind and exit code, the advice entry it names."""
    from wizard.core import advice

    entry = advice.entry(*error.advice_key, message=error.message) if error.advice_key else None
    return Description(error.kind, title, message, error.exit_code, line, details or error.details, entry)


def _connect(error: ConnectError, shown: str | None, ref: str | None) -> Description:
    from wizard.core import advice

    entry = advice.for_connection(error.kind, error.reason, ref)
    line = f"{error}. {plain(entry.cause)} {plain(entry.fix, links=ref is not None)}"
    return Description(error.kind, f"Cannot connect to {shown or error.target}", error.reason, error.exit_code,
                       line, advice=entry)


def _api(error: ApiError, shown: str | None, ref: str | None) -> Description:
    from wizard.core import advice

    entry = advice.entry("https", error.kind, ref=ref, message=error.message)
    line = error.message + (f". {plain(entry.fix)}" if entry else "")
    return Description(error.connect_kind, f"The Management API failed for {shown or THE_DATABASE}", error.message,
                       ExitCode.CONNECT, line, advice=entry)


def _lock_held(error: LockHeld, ref: str | None) -> Description:
    from wizard.core import advice

    holder = f" It is held by {error.holder}." if error.holder else ""
    line = (f"another migration run is in progress on this database (waited {error.waited:g} s for its lock)."
            f"{holder} Wait for it to finish, then run again; or raise --lock-timeout.")
    return Description("lock-held", "Another migration run holds the lock", f"Waited {error.waited:g} s for it.{holder}",
                       ExitCode.LOCKED, line, advice=advice.for_connection("lock-held", str(error), ref))


def _rest(error: RestError, ref: str | None, key_name: str | None, url: str | None) -> Description:
    from wizard.core import advice

    entry = advice.entry("rest", error.kind, key_name=key_name, url=url, message=error.message, ref=ref)
    line = error.message + (f". {plain(entry.fix)}" if entry else "")
    # The fix is the whole of the advice here: it comes as a detail.
    return Description(f"rest-{error.kind}", "The REST API cannot check the tables", error.message, error.exit_code,
                       line, details=(entry.fix if entry else "Retry in a moment.",))


def _database(error: psycopg.Error, shown: str | None, ref: str | None) -> Description:
    """A database error outside a migration: the connection was lost, or the server refused a step
    of the wizard's own (reading the history, taking the lock...)."""
    import psycopg

    from wizard.core import advice

    said = str(error).strip()
    if isinstance(error, psycopg.OperationalError) and not error.sqlstate:
        entry = advice.for_connection("connection-failed", said, ref)
        return Description("connection-lost", f"The connection to {shown or THE_DATABASE} was lost", said,
                           ExitCode.CONNECT, f"the connection to the database was lost: {said}", advice=entry)
    found = advice.entry("sqlstate", error.sqlstate or "", message=said, object="it")
    line = f"the database refused a step of the wizard's own: {error.sqlstate} {said}"
    return Description(f"sqlstate.{error.sqlstate}", "The database refused a step of the wizard's own",
                       f"{error.sqlstate} {said}", ExitCode.FAILED, line + (f". {plain(found.fix)}" if found else ""),
                       advice=found)
