"""What the wizard is pointed at: the command line's options, as the app and its steps read them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """What the wizard is pointed at: the command line's options."""

    migrations: Path | None = None  # the folder (default ./migrations, else ./supabase/migrations)
    database_url: str | None = None
    local: bool = False  # the local embedded PostgreSQL
    local_dir: Path | None = None
    env_file: Path | None = None
    cwd: Path | None = None  # the project: where .env and .env.local are read
    environ: dict[str, str] | None = None  # the process environment (default: this process's)
    connect_timeout: float = 10.0
    api_url: str | None = None  # the Management API's address
    target_name: str | None = None  # shown instead of the target's (masked) URL
    show_times: bool = True  # durations and elapsed time; off for screenshots that must not change
    targets: Path | None = None  # the targets file (--targets); default ./migration-wizard.toml when it exists

    @property
    def process_environ(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    @property
    def project(self) -> Path:
        return (self.cwd or Path.cwd()).resolve()

    def folder(self) -> Path:
        from wizard.core.catalog import default_directory

        return self.migrations or default_directory(self.project)

    def targets_file(self) -> Path | None:
        """The fleet's targets file: --targets, else migration-wizard.toml in the project when there
        is one; None: the wizard has no Fleet screen."""
        from wizard.core.fleet.targets import FILENAME

        if self.targets is not None:
            return self.targets
        found = self.project / FILENAME
        return found if found.is_file() else None

    def show_path(self, path: Path) -> str:
        """A path as the user thinks of it: relative to the project when inside it."""
        path = path.resolve()
        for base in (self.project, self.folder().resolve().parent):
            if path.is_relative_to(base):
                return str(path.relative_to(base))
        return str(path)
