"""Root conftest: in-repo runs get the anyllm pytest plugin even when the package is not
installed (an installed package registers it through its ``pytest11`` entry point, and
registering it twice would be an error, hence the check)."""

from __future__ import annotations

from importlib.metadata import entry_points


def _entry_point_installed() -> bool:
    return any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))


pytest_plugins = [] if _entry_point_installed() else ["anyllm.testing.plugin"]
