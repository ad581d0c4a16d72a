"""Secrets never reach a log line: issue 16, defect 3 (the webhook URL in httpx's INFO line).

The logging is set up exactly as ``agentbot run`` does it (``cli._configure_bot_logging``,
then the plugin secrets once the plugins are validated), and the line comes from a real
httpx request to a real webhook server on 127.0.0.1 — httpx itself logs
``HTTP Request: POST http://…/hooks/<token> "HTTP/1.1 200 OK"``.
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentbot import cli
from agentbot.runtime.bot import Bot
from agentbot.runtime.config import load_config
from agentbot.runtime.logs import SECRET, Redactor, secret_values, uninstall_redaction

KEY = "d57ad424c173ea4541bef97b766c168a83042788"
HOOK_TOKEN = "T0KEN-b8e1f4c2a9d7"
HEADER_TOKEN = "Bearer hdr-5f0c7a91e3"


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server's own access log is not under test


@pytest.fixture
def hook_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{HOOK_TOKEN}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        uninstall_redaction()


def _bot_toml(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(
        f'[smartsupp]\nagent_id = "bot-1"\nkey = "{KEY}"\n'
        "[plugins.after_hours]\n"
        "[plugins.after_hours.webhook]\n"
        f'url = "{url}"\n'
        f'headers = {{ Authorization = "{HEADER_TOKEN}" }}\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_webhook_url_and_headers_are_redacted_in_httpx_lines(
    tmp_path: Path,
    hook_url: str,
    log_format: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from agentbot.runtime.launcher import config_secrets

    config = load_config(_bot_toml(tmp_path, hook_url))
    # --verbose: httpx's per-request INFO lines are shown only then (and redacted then too).
    cli._configure_bot_logging(log_format, verbose=True, secrets=config_secrets(config))
    bot = Bot(config)
    cli._redact_plugin_secrets(bot.prepare())
    # pytest's own handler (the set-up above replaced the root's): one agentbot did not make.
    logging.getLogger().addHandler(caplog.handler)

    with httpx.Client() as client:
        client.post(hook_url, json={"lead": 1}, headers={"Authorization": HEADER_TOKEN})
    logging.getLogger("plugins.demo").warning("posting to %s with %s", hook_url, HEADER_TOKEN)
    logging.getLogger("agentbot.x").info("key %s", KEY)
    try:
        raise RuntimeError(f"cannot reach {hook_url}")
    except RuntimeError:
        logging.getLogger("agentbot.x").exception("delivery failed")

    printed = capsys.readouterr().err
    captured = caplog.text
    assert "HTTP Request: POST http://127.0.0.1:" in printed  # httpx's line is there ...
    for text in (printed, captured):
        assert HOOK_TOKEN not in text  # ... without the path that is the secret
        assert HEADER_TOKEN not in text
        assert KEY not in text
        assert "/hooks/" not in text
    assert "http://127.0.0.1:" in captured  # the host stays visible for debugging
    if log_format == "json":
        lines = [json.loads(line) for line in printed.splitlines()]
        assert any(line["logger"] == "httpx" for line in lines)


def test_secret_values_follow_the_field_marker_into_nested_classes() -> None:
    import attrs

    @attrs.frozen
    class Inner:
        token: str = attrs.field(metadata=SECRET)
        timeout: float = 1.0

    @attrs.frozen
    class Outer:
        name: str
        inner: Inner
        headers: dict[str, str] = attrs.field(factory=dict, metadata={"secret": True})

    found = secret_values(Outer("plain", Inner("tok-123456"), {"X-Key": "hv-abcdef"}))
    assert set(found) == {"tok-123456", "hv-abcdef"}
    redact = Redactor(found)
    assert redact("plain tok-123456 X-Key hv-abcdef") == "plain *** X-Key ***"


def test_a_url_is_masked_by_its_path_even_as_a_client_rewrites_it() -> None:
    redact = Redactor()
    redact.add_url("https://hooks.example.com/services/T00/B00/xyz secret")
    assert redact("POST https://hooks.example.com/services/T00/B00/xyz%20secret") == (
        "POST https://hooks.example.com/***"
    )
    short = Redactor()
    short.add_url("https://example.com/api")  # a short path is no secret: the URL still is
    assert short("see https://example.com/api and /api") == "see *** and /api"
