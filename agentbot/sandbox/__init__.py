"""A Smartsupp-compatible server for the demo, the tests and local plugin work.

It speaks the agent side and the visitor side of PROTOCOL.md over Engine.IO 3 and 4, keeps
an in-memory account, records every frame, and can misbehave on request (faults).
"""

from __future__ import annotations

from agentbot.sandbox.app import create_app
from agentbot.sandbox.config import SandboxAgent, SandboxConfig, SandboxGroup
from agentbot.sandbox.control import SandboxControl
from agentbot.sandbox.hub import Sandbox
from agentbot.sandbox.server import running_server, serve

__all__ = [
    "Sandbox",
    "SandboxAgent",
    "SandboxConfig",
    "SandboxControl",
    "SandboxGroup",
    "create_app",
    "running_server",
    "serve",
]
