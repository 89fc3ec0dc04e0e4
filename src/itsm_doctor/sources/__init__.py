"""Source readers, one module each, registered by name.

Adding a source = adding one module that defines ``SOURCE`` and one line below.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from itsm_doctor.sources.base import Source

__all__ = ["SOURCE_NAMES", "check_mapping", "get_source"]

_MODULES: dict[str, str] = {
    "bpic2013": "itsm_doctor.sources.bpic2013",
    "bpic2014": "itsm_doctor.sources.bpic2014",
    "canonical": "itsm_doctor.sources.canonical",
    "csv": "itsm_doctor.sources.mapped_csv",
    "glpi": "itsm_doctor.sources.mapped_csv",
    "itop": "itsm_doctor.sources.mapped_csv",
    "jira": "itsm_doctor.sources.jira",
    "servicenow": "itsm_doctor.sources.servicenow",
    "xes": "itsm_doctor.sources.xes",
    "zammad": "itsm_doctor.sources.mapped_csv",
    "znuny": "itsm_doctor.sources.mapped_csv",
}
SOURCE_NAMES: tuple[str, ...] = tuple(sorted(_MODULES))


def get_source(name: str) -> Source:
    """The reader registered under ``name``."""
    try:
        module = importlib.import_module(_MODULES[name])
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}") from None
    sources: dict[str, Source] = getattr(module, "SOURCES", {})
    return sources.get(name) or module.SOURCE  # type: ignore[no-any-return]


def check_mapping(*, source: str, path: Path) -> None:
    """Refuse a bad ``--mapping`` file before any export is read: the Jira reader's own keys
    for ``jira`` (docs/records.md), an ``activity_map`` for ``xes``, the column mapping
    (docs/mapping.md) for the others."""
    if source == "jira":
        from itsm_doctor.sources.jira_mapping import load_jira_mapping

        load_jira_mapping(path)
    elif source == "xes":  # an event log read as it is takes a lifecycle mapping (an activity_map) only
        from itsm_doctor.sources.mapping import load_lifecycle_mapping

        load_lifecycle_mapping(path)
    else:
        from itsm_doctor.sources.mapping import load_mapping

        load_mapping(path)
