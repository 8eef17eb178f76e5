"""The manual screen's work off the event loop, each answered as a message to the screen: what is
done (the folder read again, the progress kept, the history), the check of a migration the person
ran, the confirmation without a check, and the reading of an error the SQL editor showed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from wizard.tui.trouble import Trouble

if TYPE_CHECKING:
    from wizard.core.catalog import Catalog, Migration
    from wizard.core.db import Connectable
    from wizard.core.manual import Part, Presence
    from wizard.tui.screens.path import Plan
    from wizard.tui.target import Target


class Loaded(Message, namespace="manual_screen"):
    """The folder as read again, and what is done: confirmed by hand or in the history."""

    def __init__(self, catalog: Catalog | None, confirmed: dict[str, str], trouble: Trouble | None) -> None:
        super().__init__()
        self.catalog = catalog
        self.confirmed = confirmed
        self.trouble = trouble


class Checked(Message, namespace="manual_screen"):
    """What a check found of a migration, and whether it is now confirmed."""

    def __init__(self, migration: Migration, presence: Presence | None, trouble: Trouble | None,
                 confirmed: bool = False, recorded: bool = False) -> None:
        super().__init__()
        self.migration = migration
        self.presence = presence
        self.trouble = trouble
        self.confirmed = confirmed
        self.recorded = recorded


class ErrorRead(Message, namespace="manual_screen"):
    def __init__(self, trouble: Trouble | None) -> None:
        super().__init__()
        self.trouble = trouble


def load(plan: Plan, project: Path) -> Loaded:
    """Read the folder again (a fix is taken), the progress kept in the project and, with a
    connection, the history: what it holds counts as done."""
    from wizard.core import catalog as folders
    from wizard.core import history, manual

    target = plan.target
    try:
        catalog = folders.load(plan.catalog.directory)
        confirmed = manual.load_progress(project, plan.progress_key)
        if target is not None:
            with target.open() as conn:
                for state in history.states(catalog, history.read(conn)):
                    if state.state in (history.APPLIED, history.ADOPTED) and state.checksum is not None:
                        confirmed[state.version] = state.checksum
    except Exception as exc:
        return Loaded(None, {}, Trouble.error(exc, target))
    return Loaded(catalog, confirmed, None)


def check(plan: Plan, catalog: Catalog, migration: Migration, project: Path) -> Checked:
    """What the database holds of the migration; confirmed (and recorded) when it holds all."""
    from wizard.core import manual

    target = plan.target
    recorded = False
    try:
        if target is not None:
            with target.open() as conn:
                presence = manual.check(migration, catalog, conn=conn)
                if presence.ok:
                    recorded = _record(target, catalog, conn, migration)
        else:
            presence = manual.check(migration, catalog, rest=plan.rest)
        if presence.ok:
            manual.confirm(project, migration, plan.progress_key)
    except manual.RestError as exc:  # from the REST API, the way without a connection
        trouble = Trouble.rest(exc, plan.rest, plan.ref) if plan.rest is not None else Trouble.error(exc, target)
        return Checked(migration, None, trouble)
    except Exception as exc:
        return Checked(migration, None, Trouble.error(exc, target))
    return Checked(migration, presence, None, presence.ok, recorded)


def settle(plan: Plan, catalog: Catalog, migration: Migration, project: Path) -> Checked:
    """The person says it ran: confirmed, and recorded when there is a connection."""
    from wizard.core import manual

    target, recorded = plan.target, False
    try:
        if target is not None:
            with target.open() as conn:
                recorded = _record(target, catalog, conn, migration)
        manual.confirm(project, migration, plan.progress_key)
    except Exception as exc:
        return Checked(migration, None, Trouble.error(exc, target))
    return Checked(migration, None, None, True, recorded)


def _record(target: Target, catalog: Catalog, conn: Connectable, migration: Migration) -> bool:
    """In the history, as run by hand (so later runs and the Supabase CLI agree), unless the
    paste recorded itself already. True: the history holds it."""
    runner = target.runner(conn, catalog, lambda event: None)
    runner.adopt([migration], method="manual")
    return True


def read_error(text: str, migration: Migration, part: Part, plan: Plan, catalog: Catalog) -> ErrorRead:
    """Place the error in the file and find its advice; with a connection, whether everything
    the migration creates is there already (then it can be confirmed as it is)."""
    from wizard.core import advice, manual, verify

    try:
        diagnosis = manual.read_error(text, migration, part)
    except Exception as exc:
        return ErrorRead(Trouble.error(exc))
    if diagnosis is None:
        return ErrorRead(None)
    missing = None
    try:
        if plan.target is not None and "adopt" in advice.for_failure(diagnosis, catalog).actions:
            with plan.target.open() as conn:
                missing = [o.describe() for o in verify.migration_presence(conn, migration)[1]]
    except Exception:
        missing = None  # the advice stands without it
    trouble = Trouble.failed(diagnosis, catalog, plan.ref, missing)
    where = f" (part {part.number} of {part.count})" if part.count > 1 else ""
    details = trouble.details
    if missing is None and diagnosis.sqlstate in ("42P07", "42710"):
        details += ("Already run before? Back on the migration (Escape), Enter checks what is there.",)
    return ErrorRead(replace(trouble, what=f"{migration.filename}{where} failed in the SQL editor", details=details))
