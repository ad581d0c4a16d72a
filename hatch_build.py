"""Build hook: ship the top-level ``plugins/`` folder as the package ``agentbot_plugins``.

A wheel must not install a generic top-level module called ``plugins``. A regular wheel
copies the folder under the new name; an editable install cannot rename a folder, so it
installs a one-file package whose ``__path__`` points at the live ``plugins/`` folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "agentbot_plugins"

EDITABLE_SHIM = '''"""Editable install of agentbot's built-in plugins, which live in plugins/."""

__path__ = [{path!r}]
'''


class PluginsPackageHook(BuildHookInterface):  # type: ignore[type-arg]
    """Map ``plugins/`` to ``agentbot_plugins`` in wheels and editable installs."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        source = root / "plugins"
        if version == "editable":
            self._shim_dir = tempfile.TemporaryDirectory()
            shim = Path(self._shim_dir.name) / "__init__.py"
            shim.write_text(EDITABLE_SHIM.format(path=str(source.resolve())), encoding="utf-8")
            build_data["force_include"][str(shim)] = f"{PACKAGE}/__init__.py"
        else:
            build_data["force_include"][str(source)] = PACKAGE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        shim_dir = getattr(self, "_shim_dir", None)
        if shim_dir is not None:
            shim_dir.cleanup()
