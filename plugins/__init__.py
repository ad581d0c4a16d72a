"""Built-in plugins, installed as the ``agentbot_plugins`` package."""
