"""What the manual screen says: the part shown, a copy, what a check found, a confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

from wizard.tui.services import BROWSER

if TYPE_CHECKING:
    from wizard.core.catalog import Migration
    from wizard.core.manual import Part, Presence

SHOWN = 6  # objects named in a line before "and N more"


def size(text: str) -> str:
    length = len(text.encode("utf-8"))
    return f"{length} bytes" if length < 1000 else f"{length / 1000:.1f} kB"


def listed(items: tuple[str, ...] | list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def part_title(part: Part, number: int, count: int, done: int) -> Content:
    """Which migration (and part) is shown, of how many, and how many are confirmed."""
    title = f"Migration {number} of {count}: {part.migration.filename}"
    if part.count > 1:
        title += f", part {part.number} of {part.count}"
    return Content.from_markup("[b]$title[/]  [$text-muted]$done confirmed[/]", title=title, done=f"{done} of {count}")


def part_facts(part: Part, creates: str) -> str:
    """Its size, its statements and what the whole file creates."""
    statements = part.last_statement - part.first_statement + 1
    facts = f"{size(part.sql)}, {statements} statement{'s' * (statements != 1)}"
    if part.count > 1:
        facts += f" ({part.first_statement} to {part.last_statement}); the whole file"
    return f"{facts}. Creates {creates}."


def part_prompt(part: Part, how: str) -> tuple[Content, Content]:
    """What to do with the part shown, and that it records itself."""
    step = "this part" if part.count > 1 else "it"
    return (Content(f"c copies {step}, o opens the SQL editor; run {step} there, then press "
                    f"Enter: the wizard checks it through {how}."),
            Content.from_markup("[$text-muted]$line[/]", line=(
                "Its last part records it in the migration history when it runs." if part.count > 1
                else "It records itself in the migration history when it runs.")))


def copied(part: Part, text: str, command: str | None, saved: str | None, failure: str | None) -> list[Content]:
    """Where a copy went: the terminal's clipboard, the system's through ``command``, and the file
    ``saved`` (or why not: ``failure``)."""
    lines = [Content(f"Copied {part.label} ({size(text)}), with the lines that record it:")]
    if command == BROWSER:
        lines.append(Content("  · sent to the browser's clipboard (if the browser refuses it, copy it from the file)"))
    else:
        lines.append(Content("  · sent to the terminal's clipboard (OSC 52; not every terminal takes it)"))
        lines.append(_system_clipboard(command))
    if failure is not None:
        lines.append(Content(f"  · could not save it as a file: {failure}"))
    else:
        lines.append(Content(f"  · saved as {saved}: if the paste comes out empty, copy it from that file"))
    return lines


def _system_clipboard(command: str | None) -> Content:
    if command:
        return Content.from_markup("  · [$text-success]on the system clipboard[/], through $command", command=command)
    return Content("  · no clipboard command on PATH (wl-copy, xclip, xsel, pbcopy, clip.exe)")


def nothing_seen(migration: Migration, presence: Presence) -> list[Content]:
    """A check that could see nothing of the migration: the person confirms it, or pastes the error."""
    return [Content(f"{migration.filename} creates nothing that {presence.how} can see"
                    + (f" ({presence.unchecked})." if presence.unchecked else ".")),
            Content.from_markup("If the SQL editor said [b]Success[/], press [b]y[/] to confirm it; "
                                "if it showed an error, [b]e[/] to paste it here.")]


def not_confirmed(presence: Presence, parts: int) -> list[Content]:
    """A check that found something missing: what, what is there, and what to do."""
    total = len(presence.present) + len(presence.missing)
    lines = [Content.from_markup("[$text-error]✗ Not confirmed:[/] $count missing: $names",
                                 count=f"{len(presence.missing)} of {total}", names=listed(presence.missing))]
    if presence.present:
        lines.append(Content(f"There: {listed(presence.present)}"))
    again = ("Run the parts that did not run (p goes back), or the whole file again"
             if parts > 1 else "Run it again in the SQL editor (all of it)")
    lines.append(Content(f"{again}, then Enter. If the editor showed an error, e pastes it here."))
    return lines


def confirmed(migration: Migration, presence: Presence | None, recorded: bool) -> Content:
    """A migration confirmed: through a check (``presence``) or by the person, and whether the
    history now holds it."""
    if presence is None:
        text = Content.from_markup("[$text-success]✓ $name confirmed[/] (by you)", name=migration.filename)
    else:
        count = len(presence.present)
        text = Content.from_markup("[$text-success]✓ $name confirmed[/] through $how: $there",
                                   name=migration.filename, how=presence.how,
                                   there=f"{count} of {count} {presence.things} there")
        if presence.how == "the REST API" and presence.unchecked:
            text += Content(" (it shows tables only)")
    if recorded:
        text += Content("; recorded in the history as run by hand")
    return text + Content(".")
