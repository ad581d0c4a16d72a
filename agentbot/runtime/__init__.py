"""The bot runtime: plugins, chat actors, pacing, storage and configuration.

Filled in layer by layer; see DESIGN.md (runtime) for the map.
"""

from __future__ import annotations
