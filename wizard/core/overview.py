"""The overview moved to ``wizard.core.flows.overview``; this name stays for importers."""

from wizard.core.flows.overview import (  # noqa: F401
    HISTORY_FACTS,
    OFFLINE_BASELINE,
    OFFLINE_NOTE,
    OFFLINE_UNKNOWN,
    Overview,
    Partial,
    history_facts,
    major_version_fact,
    offline,
    partial_fact,
    read,
    seed_files,
)
