"""Many idle bots in one process vs one ``agentbot run`` process per bot (issue 14 item 2).

Run: ``python benchmarks/fleet.py [--bots 1000] [--processes 30] [--bots-per-account 10]``.

The sandbox runs in a child process (its memory is not counted): ``--bots-per-account``
bot agents per sandbox account, one account per uvicorn server on a loopback port, so each
bot sees a realistic account (a few agents) rather than one account with a thousand agents,
whose every login would be announced to all the others. Then, in this process:

* a :class:`~agentbot.runtime.fleet.Fleet` of ``--bots`` bots (socket transport, no plugins,
  each with its own SQLite file in a temporary folder) logs in; the RSS this adds, divided
  by the number of bots, is the cost of one idle bot in-process; login time is from each
  Bot's ``run()`` to its logged-in report, the fleet letting ``--max-logins`` log in at a
  time (its ``max_concurrent_logins``), and the time until all are logged in is printed too;
* the fleet's CPU time over ``--idle-seconds`` of idling (heartbeats only);
* ``--processes`` separate ``agentbot run`` processes, one bot each: their RSS, and the
  total extrapolated to ``--bots`` processes (said so in the output).

RSS and CPU come from /proc (Linux). Figures only: a failure prints one line.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of ``pid`` (/proc/PID/statm, pages → bytes)."""
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of ``pid`` so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def agent(index: int) -> tuple[str, str]:
    return f"bot-{index}", f"token-{index}"


# -- the sandbox child -----------------------------------------------------------------------


def serve_sandboxes(total_bots: int, per_account: int) -> None:
    """Serve ceil(total/per_account) sandbox accounts; print their URLs as one JSON line."""
    from agentbot.sandbox import SandboxAgent, SandboxConfig, create_app, running_server

    accounts = math.ceil(total_bots / per_account)

    async def main() -> None:
        from contextlib import AsyncExitStack

        async with AsyncExitStack() as stack:
            urls = []
            for account in range(accounts):
                first = account * per_account
                bots = tuple(
                    SandboxAgent(id=agent(i)[0], auth_token=agent(i)[1], role="bot")
                    for i in range(first, min(first + per_account, total_bots))
                )
                human = SandboxAgent(id=f"human-{account}", auth_token="h", role="human")
                config = SandboxConfig(account_key=f"account-{account}", agents=(*bots, human))
                urls.append(await stack.enter_async_context(running_server(create_app(config))))
            print(json.dumps(urls), flush=True)
            await anyio.sleep_forever()

    anyio.run(main, backend="asyncio")


# -- measuring ---------------------------------------------------------------------------------


def bot_settings(index: int, urls: list[str], per_account: int) -> dict[str, Any]:
    account = index // per_account
    agent_id, token = agent(index)
    return {
        "url": urls[account],
        "agent_id": agent_id,
        "key": f"account-{account}",
        "auth_token": token,
        "send_via": "socket",
    }


async def measure_fleet(
    bots: int,
    urls: list[str],
    per_account: int,
    folder: Path,
    idle_seconds: float,
    max_logins: int,
) -> dict[str, float]:
    from agentbot.runtime.bot import Bot
    from agentbot.runtime.config import BotConfig, RuntimeSettings, SmartsuppSettings
    from agentbot.runtime.fleet import Fleet, Member
    from agentbot.runtime.storage import Storage

    login_seconds: list[float] = []

    class TimedBot(Bot):
        async def run(
            self, *, task_status: anyio.abc.TaskStatus[Bot] = anyio.TASK_STATUS_IGNORED
        ) -> None:
            began = time.perf_counter()

            class Timed:
                def started(self, value: Any = None) -> None:
                    login_seconds.append(time.perf_counter() - began)
                    task_status.started(value)

            await super().run(task_status=Timed())

    def make_bot(name: str, config: BotConfig, storage: Storage | None) -> Bot:
        return TimedBot(config, storage=storage, entry_points={})

    members = [
        Member(
            name=f"b{i}",
            config=BotConfig(
                path=None,
                smartsupp=SmartsuppSettings(**bot_settings(i, urls, per_account)),
                runtime=RuntimeSettings(storage_path=folder / f"b{i}.sqlite3"),
            ),
        )
        for i in range(bots)
    ]
    gc.collect()
    before = rss_bytes()
    fleet = Fleet(members, make_bot=make_bot, max_concurrent_logins=max_logins)
    async with anyio.create_task_group() as tg:
        began = time.perf_counter()
        await tg.start(fleet.run)
        up_seconds = time.perf_counter() - began
        logged_in = sum(1 for state in fleet.states.values() if state == "logged_in")
        await anyio.sleep(2.0)  # let the login-time resyncs and first heartbeats settle
        gc.collect()
        after = rss_bytes()
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        await anyio.sleep(idle_seconds)
        cpu = (cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
        fleet.stop()
    login_seconds.sort()
    return {
        "logged_in": logged_in,
        "rss_added_mb": (after - before) / MB,
        "rss_per_bot_kb": (after - before) / max(1, bots) / 1024,
        "rss_total_mb": after / MB,
        "login_p50_ms": _quantile(login_seconds, 0.50) * 1000,
        "login_p99_ms": _quantile(login_seconds, 0.99) * 1000,
        "login_max_ms": (login_seconds[-1] if login_seconds else math.nan) * 1000,
        "up_seconds": up_seconds,
        "idle_cpu_percent": cpu * 100,
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, int(q * len(values)))]


def measure_processes(
    count: int, first_index: int, urls: list[str], per_account: int, folder: Path
) -> list[int]:
    """Start ``count`` ``agentbot run`` processes, wait for each login, return their RSS."""
    processes = []
    logs = []
    try:
        for n in range(count):
            settings = bot_settings(first_index + n, urls, per_account)
            path = folder / f"proc{n}.toml"
            lines = ["[smartsupp]"] + [
                f"{key} = {json.dumps(value)}" for key, value in settings.items()
            ]
            lines += ["[runtime]", f'storage_path = "proc{n}.sqlite3"']
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            log = (folder / f"proc{n}.log").open("w+b")
            logs.append(log)
            command = [sys.executable, "-c", "from agentbot.cli import main; main()", "run"]
            processes.append(
                subprocess.Popen(
                    [*command, "-c", str(path)],
                    cwd=folder,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 120
        waiting = set(range(count))
        while waiting and time.monotonic() < deadline:
            for n in list(waiting):
                logs[n].seek(0)
                if b"logged in as agent" in logs[n].read():
                    waiting.discard(n)
            time.sleep(0.2)
        if waiting:
            raise RuntimeError(f"{len(waiting)} of {count} processes did not log in")
        time.sleep(2.0)
        return [rss_bytes(p.pid) for p in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=30)
    parser.add_argument("--bots-per-account", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument(
        "--max-logins", type=int, default=None, help="the fleet's max_concurrent_logins"
    )
    parser.add_argument("--serve-sandbox", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox is not None:
        serve_sandboxes(args.serve_sandbox, args.bots_per_account)
        return
    from agentbot.runtime.fleet import DEFAULT_MAX_CONCURRENT_LOGINS

    max_logins = args.max_logins or DEFAULT_MAX_CONCURRENT_LOGINS
    total = args.bots + args.processes
    serve = ["--serve-sandbox", str(total), "--bots-per-account", str(args.bots_per_account)]
    sandbox = subprocess.Popen(
        [sys.executable, __file__, *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert sandbox.stdout is not None
        urls = json.loads(sandbox.stdout.readline())
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp)
            fleet = anyio.run(
                measure_fleet,
                args.bots,
                urls,
                args.bots_per_account,
                folder,
                args.idle_seconds,
                max_logins,
            )
            rss = measure_processes(args.processes, args.bots, urls, args.bots_per_account, folder)
    except Exception as exc:
        print(f"fleet benchmark failed: {type(exc).__name__}: {exc}")
        sys.exit(1)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    per_process = statistics.mean(rss) / MB
    print(f"fleet benchmark: {args.bots} idle bots, {len(urls)} sandbox accounts (child process)")
    print(f"  in one process: {fleet['logged_in']:.0f}/{args.bots} logged in")
    print(
        f"    RSS added {fleet['rss_added_mb']:.1f} MB = {fleet['rss_per_bot_kb']:.0f} KB per bot"
        f" (process total {fleet['rss_total_mb']:.1f} MB)"
    )
    print(
        f"    login ({max_logins} at a time) p50 {fleet['login_p50_ms']:.0f} ms, "
        f"p99 {fleet['login_p99_ms']:.0f} ms, max {fleet['login_max_ms']:.0f} ms; "
        f"all {args.bots} logged in after {fleet['up_seconds']:.1f} s"
    )
    print(
        f"    CPU at idle over {args.idle_seconds:g} s: {fleet['idle_cpu_percent']:.2f} % of a core"
    )
    print(
        f"  separate `agentbot run` processes: {len(rss)} measured, RSS mean "
        f"{per_process:.1f} MB (min {min(rss) / MB:.1f}, max {max(rss) / MB:.1f})"
    )
    print(
        f"    {args.bots} processes extrapolated from {len(rss)}: "
        f"{per_process * args.bots / 1024:.1f} GB (RSS counts shared pages once per process)"
    )
    ratio = per_process * 1024 / max(fleet["rss_per_bot_kb"], 1e-9)
    print(f"  in-process bot vs process: {ratio:.0f}x less memory per bot")


if __name__ == "__main__":
    main()
