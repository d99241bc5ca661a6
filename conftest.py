"""Root conftest: in-repo runs get the anyllm pytest plugin even when the package is not
installed (an installed package registers it through its ``pytest11`` entry point, and
registering it twice would be an error, hence the check)."""

from __future__ import annotations

from importlib.metadata import entry_points


def _entry_point_installed() -> bool:
    return any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))


# Not defined at all when installed: pytest refuses ``pytest_plugins`` (even an empty list) in
# a conftest that is not at the rootdir, and this one is not when `pytest --provider=X` runs
# elsewhere and collects the suites of an editable install (anyllm.testing.plugin.front_door).
if not _entry_point_installed():
    pytest_plugins = ["anyllm.testing.plugin"]
