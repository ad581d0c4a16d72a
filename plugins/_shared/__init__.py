"""Helpers the built-in plugins share: templates, languages, leads and webhooks, the clock.

Not a plugin (it registers no entry point); third-party plugins should not rely on it.
"""
