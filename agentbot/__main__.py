"""``python -m agentbot``: the ``agentbot`` command (how ``run --reload`` starts its bot)."""

from __future__ import annotations

from agentbot.cli import main

main()
