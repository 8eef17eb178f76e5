"""By hand: the migrations run one at a time in the dashboard's SQL editor, each checked before the
next. Pre-flight's findings first (offline when there is no way to the database), never hidden
while a migration they concern is left. The migration's SQL (highlighted, read-only), its size,
statements and what it creates; copied (as a paste that records itself in the migration history)
to the clipboard and to a file under the project; the SQL editor opened in the browser.
Then "I ran it": the wizard checks what the paste created (through the database's catalog when it
has a connection, else through the REST API with an API key), records the migration as run by
hand when it has a connection, and keeps the progress, so that it resumes at the first migration
not yet confirmed. An error the editor showed is pasted here and opens Troubleshoot at its line.
Answers the outcome, as Apply does."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.style import Style
from textual.widgets import Static, TextArea

from wizard.tui.screens import manual_work
from wizard.tui.screens.apply import Outcome
from wizard.tui.screens.manual_lines import (
    confirmed,
    copied,
    not_confirmed,
    nothing_seen,
    part_facts,
    part_prompt,
    part_title,
)
from wizard.tui.screens.manual_work import Checked, ErrorRead, Loaded
from wizard.tui.screens.path import Plan
from wizard.tui.screens.step import Step
from wizard.tui.trouble import Trouble
from wizard.tui.widgets import PreflightFindings

if TYPE_CHECKING:
    from wizard.core.catalog import Migration
    from wizard.core.events import AppliedMigration
    from wizard.core.manual import Part

PASTE_DIRECTORY = ".migration-wizard/paste"  # under the project: each copied paste, as a file


class ManualScreen(Step[Outcome]):
    STEP = "Apply"
    by_hand = True
    COMPACT_FOOTER = True
    BINDINGS = [
        Binding("c", "copy", "Copy", priority=True),
        Binding("o", "open_editor", "SQL editor", priority=True),
        Binding("enter", "ran_part", "I ran this part", priority=True),
        Binding("enter", "check", "I ran it", priority=True),
        Binding("enter", "read_error", "Read the error", priority=True),
        Binding("enter", "verify", "Verify", priority=True),
        Binding("y", "confirm", "Confirm", priority=True),
        Binding("e", "paste_error", "Paste error", priority=True),
        Binding("p", "previous_part", "Previous part", priority=True),
        Binding("t", "troubleshoot", "Troubleshoot", priority=True),
        Binding("escape", "back", "Back", priority=True),
    ]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.catalog = plan.catalog
        self.confirmed: dict[str, str] = {}  # version -> checksum of what was confirmed
        self.current: Migration | None = None
        self.parts: list[Part] = []
        self.part = 0  # the index of the part shown
        self.loaded = False
        self.busy = False  # a check or a record is running
        self.unverifiable = False  # nothing of the current migration can be checked: the person confirms
        self.trouble: Trouble | None = None
        self.trouble_from = ""  # what the trouble stopped: "load", "check" or "paste" (what r retries)
        self.applied: list[AppliedMigration] = []

    @property
    def how(self) -> str:
        return "the database's catalog" if self.plan.target is not None else "the REST API"

    def body(self) -> ComposeResult:
        yield PreflightFindings("", id="preflight")
        yield Static("Reading the migrations and what is already done…", id="status")
        yield Static("", id="creates")
        code = TextArea.code_editor("", language="sql", read_only=True, tab_behavior="focus", id="sql")
        yield code
        yield Static("", id="result")
        yield TextArea(id="error", soft_wrap=True, tab_behavior="focus",
                       placeholder="Paste the error the SQL editor showed (all of it, from ERROR:), then Enter")

    def on_mount(self) -> None:
        self.query_one("#sql").focus()
        self.load()

    # -- what is done (a thread) ----------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="manual")
    def load(self) -> None:
        self.post_message(manual_work.load(self.plan, self.app.settings.project))

    def on_manual_screen_loaded(self, message: Loaded) -> None:
        if message.trouble is not None:
            self.query_one("#status", Static).update(f"Stopped: {message.trouble.what}.")
            self.trouble, self.trouble_from = message.trouble, "load"
            self.troubleshoot(message.trouble)
            self.refresh_bindings()
            return
        from wizard.core import manual

        assert message.catalog is not None, "the folder was read, or there is trouble"
        self.loaded = True
        self.catalog, self.confirmed = message.catalog, message.confirmed
        self.show(manual.next_to_run(self.catalog, self.confirmed))

    # -- what is shown --------------------------------------------------------------------------

    def show(self, migration: Migration | None, news: Content | None = None) -> None:
        """Show a migration (its first part), or that every one is confirmed."""
        from wizard.core import manual

        self.current, self.unverifiable, self.trouble = migration, False, None
        self.show_findings()
        self.parts = manual.parts(migration) if migration is not None else []
        self.part = 0
        if migration is None:
            count = len(self.catalog.migrations)
            self.query_one("#status", Static).update(Content.from_markup(
                "[b $text-success]✓ All $count migrations are confirmed.[/]", count=count))
            self.query_one("#creates", Static).update("")
            self.query_one("#sql", TextArea).load_text(f"-- All {count} migrations are confirmed.\n")
            self._result(news, Content("Press Enter to verify the database as a whole."))
        else:
            self.show_part(news)
        self.refresh_bindings()

    def show_findings(self) -> None:
        """What pre-flight found (the Path step's findings: ``plan``'s, offline when there is no way
        to the database), at the top, before the first paste: the errors of the migrations not yet
        confirmed, and the warnings of the one shown. Never hidden while one is left."""
        done = {m.filename for m in self.catalog.migrations if self.confirmed.get(m.version) == m.checksum}
        current = self.current.filename if self.current is not None else None
        self.query_one("#preflight", PreflightFindings).show(self.plan.findings, done, current, self.plan.offline)

    def show_part(self, news: Content | None = None) -> None:
        from wizard.core import manual

        migration, part = self.current, self.parts[self.part]
        assert migration is not None, "a part of the migration shown"
        number = self.catalog.migrations.index(migration) + 1
        count = len(self.catalog.migrations)
        done = sum(1 for m in self.catalog.migrations if self.confirmed.get(m.version) == m.checksum)
        self.query_one("#status", Static).update(part_title(part, number, count, done))
        self.query_one("#creates", Static).update(part_facts(part, manual.creates(migration)))
        code = self.query_one("#sql", TextArea)
        code.load_text(part.sql)
        code.move_cursor((0, 0))
        code.scroll_home(animate=False)
        self._result(news, *part_prompt(part, self.how))

    def _result(self, *lines: Content | None) -> None:
        self.query_one("#result", Static).update(Content("\n").join(line for line in lines if line))

    # -- copy and open --------------------------------------------------------------------------

    def action_copy(self) -> None:
        part = self.parts[self.part]
        text = part.paste
        command = self.app.copy_text(text)
        settings = self.app.settings
        path = settings.project / PASTE_DIRECTORY / part.filename
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self._result(*copied(part, text, command, None, str(exc.strerror or exc)))
        else:
            self._result(*copied(part, text, command, settings.show_path(path), None))

    def action_open_editor(self) -> None:
        from wizard.core import manual

        url = manual.sql_editor_url(self.plan.ref)
        link = Content(url).stylize(Style(link=url))
        if self.app.browse(url):
            head = Content("Opened the SQL editor in the browser: ") + link
        else:
            head = Content("Open the SQL editor in a browser: ") + link
        if self.plan.ref is None:
            head += Content(" (the dashboard asks which project)")
        self._result(head, Content("Paste the SQL there, press Run, then Enter here."))

    # -- the person ran it: check, confirm, record -----------------------------------------------

    def action_ran_part(self) -> None:
        self.part += 1
        done = self.parts[self.part - 1]
        self.show_part(Content(f"Part {done.number} of {done.count} noted as run."))
        self.refresh_bindings()

    def action_previous_part(self) -> None:
        self.part -= 1
        self.show_part()
        self.refresh_bindings()

    def action_check(self) -> None:
        if self.current is None:  # the binding shows for a migration
            return
        self._start(f"Checking {self.current.filename} through {self.how}…")
        self.check(self.current)

    def action_confirm(self) -> None:
        if self.current is None:  # the binding shows for a migration
            return
        self._start(f"Confirming {self.current.filename}…")
        self.settle(self.current)

    def _start(self, text: str) -> None:
        self.busy, self.trouble = True, None
        self._result(Content(text))
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="manual")
    def check(self, migration: Migration) -> None:
        self.post_message(manual_work.check(self.plan, self.catalog, migration, self.app.settings.project))

    @work(thread=True, exclusive=True, exit_on_error=False, group="manual")
    def settle(self, migration: Migration) -> None:
        self.post_message(manual_work.settle(self.plan, self.catalog, migration, self.app.settings.project))

    def on_manual_screen_checked(self, message: Checked) -> None:
        from wizard.core import manual
        from wizard.core.events import AppliedMigration

        self.busy = False
        migration, presence = message.migration, message.presence
        if message.trouble is not None:
            self.trouble, self.trouble_from = message.trouble, "check"
            self.unverifiable = True
            self._result(Content.from_markup("[$text-error]✗ $what:[/] $message", what=message.trouble.what,
                                             message=message.trouble.message),
                         Content("Enter checks again; t shows the details; if the SQL editor said Success, y "
                                 "confirms it without a check."))
            self.troubleshoot(message.trouble)
        elif message.confirmed:
            self.confirmed[migration.version] = migration.checksum
            self.applied.append(AppliedMigration(migration.version, migration.name, 0))
            self.show(manual.next_to_run(self.catalog, self.confirmed),
                      confirmed(migration, presence, message.recorded))
        elif presence is not None and not presence.checked:
            self.unverifiable = True
            self._result(*nothing_seen(migration, presence))
        elif presence is not None:  # a check found it (confirmed without one, above)
            self._result(*not_confirmed(presence, len(self.parts)))
        self.refresh_bindings()

    # -- an error the SQL editor showed ---------------------------------------------------------

    def action_paste_error(self, text: str = "") -> None:
        box = self.query_one("#error", TextArea)
        box.display = True
        if text:
            box.load_text(text)
        box.focus()
        self.refresh_bindings()

    def on_paste(self, event: events.Paste) -> None:
        """A paste anywhere on the screen is an error the SQL editor showed."""
        box = self.query_one("#error", TextArea)
        if self.focused is not box and self.current is not None and not self.busy:
            self.action_paste_error(event.text)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def _close_error(self) -> None:
        box = self.query_one("#error", TextArea)
        box.display = False
        self.query_one("#sql").focus()

    def action_read_error(self) -> None:
        box = self.query_one("#error", TextArea)
        text = box.text.strip()
        if not text or self.current is None:  # an error of the migration shown
            return
        box.clear()
        self._close_error()
        from wizard.core import manual

        if manual.already_applied(text):  # the paste's own stop: nothing ran
            self._result(Content.from_markup(
                "[$text-warning]The history already holds $name:[/] that paste stopped before anything ran. "
                "Enter checks what is there.", name=self.current.filename))
            return
        self._start("Reading the error…")
        self.read_error(text, self.current, self.parts[self.part])

    @work(thread=True, exclusive=True, exit_on_error=False, group="manual")
    def read_error(self, text: str, migration: Migration, part: Part) -> None:
        self.post_message(manual_work.read_error(text, migration, part, self.plan, self.catalog))

    def on_manual_screen_error_read(self, message: ErrorRead) -> None:
        self.busy = False
        if message.trouble is None:
            self._result(Content.from_markup("[$text-warning]That does not read as an error of the SQL editor:[/] "
                                             "paste all of it, from ERROR: (e)."))
        else:
            self.trouble, self.trouble_from = message.trouble, "paste"
            self._result(Content.from_markup("[$text-error]✗ $what[/]: $message. t shows it again.",
                                             what=message.trouble.what, message=message.trouble.message))
            self.troubleshoot(message.trouble)
        self.refresh_bindings()

    def after_trouble(self, answer: str | None) -> None:
        if answer == "retry" and self.trouble_from == "check" and self.current is not None:
            self.action_check()
        elif answer == "retry":  # the file may have been fixed: read it again, and show it
            self.loaded = False
            self.refresh_bindings()
            self.load()
        elif answer == "adopt":  # everything it creates is there: check it, and confirm it
            self.action_check()

    def action_troubleshoot(self) -> None:
        if self.trouble is not None:  # the binding shows for trouble
            self.troubleshoot(self.trouble)

    # -- leaving --------------------------------------------------------------------------------

    def action_verify(self) -> None:
        plan = replace(self.plan, catalog=self.catalog)
        self.dismiss(Outcome(plan, self.catalog, tuple(self.applied)))

    def action_back(self) -> None:
        if self.query_one("#error", TextArea).display:
            self._close_error()
            self.refresh_bindings()
        else:
            self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.focused is self.query_one("#error", TextArea)
        if action == "read_error":
            return typing
        if action == "back":
            return not self.busy
        if typing:
            return False
        ready = self.loaded and not self.busy and self.current is not None
        last = self.part == len(self.parts) - 1
        if action in ("copy", "open_editor", "paste_error"):
            return ready
        if action == "ran_part":
            return ready and not last
        if action == "check":  # not when nothing can be checked: it would find the same again
            nothing = self.unverifiable and self.trouble is None
            return (ready or None) if self.current is not None and last and not nothing else False
        if action == "previous_part":
            return ready and self.part > 0
        if action == "confirm":
            return ready and self.unverifiable
        if action == "verify":
            return self.loaded and not self.busy and self.current is None
        if action == "troubleshoot":
            return self.trouble is not None and not self.busy
        return True
