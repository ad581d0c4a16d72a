"""Fuzz the protocol connections and api decoding with N generated inputs; count escapes.

Run it as a script: ``python benchmarks/fuzz.py`` (1,000,000 inputs; ``--inputs N``,
``--seed S``). It uses the generators and checks of ``tests/fuzz`` (the hypothesis
properties there run the same code with a bounded example count): each input is a short
frame sequence fed to a fresh ``ClientConnection`` and ``ServerConnection`` (EIO 3 and 4
alternating), or one received event fed to ``api.decode_events``/``decode_event`` and, for a
visitor message, to the runtime's ledger (its inbox). An input that makes any of them raise
anything but ``ProtocolError``/``DecodeError`` is an *escape*: it is printed (cut to a safe
length) with the seed that replays it, never as a traceback. Prints inputs/s and the count.
Not a test: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentbot.errors import safe_snippet
from agentbot.protocol import ProtocolVersion
from agentbot.runtime.ledger import Ledger
from agentbot.runtime.storage import MEMORY, Storage
from tests.fuzz.generators import api_input, frames
from tests.fuzz.harness import Escape, check_api, check_client, check_server

MAX_SHOWN = 20
VERSIONS = (ProtocolVersion.EIO3, ProtocolVersion.EIO4)


def run_one(seed: int, ledger: Ledger) -> None:
    """Run the input of ``seed`` through its target; raise :class:`Escape` on an escape."""
    rng = random.Random(seed)
    target = seed % 3
    version = VERSIONS[(seed // 3) % 2]
    if target == 0:
        check_client(version, frames(rng, version), ledger)
    elif target == 1:
        check_server(version, frames(rng, version))
    else:
        name, args = api_input(rng)
        check_api(name, args, ledger)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="how many inputs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first input")
    options = parser.parse_args(argv)
    escapes = 0
    by_target: dict[str, int] = {}
    started = time.perf_counter()
    storage = Storage(MEMORY)
    ledger = Ledger(storage, "fuzz", wall_clock=time.time)
    for seed in range(options.seed, options.seed + options.inputs):
        try:
            run_one(seed, ledger)
        except Escape as escape:
            escapes += 1
            by_target[escape.target] = by_target.get(escape.target, 0) + 1
            if escapes <= MAX_SHOWN:
                print(f"escape (--seed {seed} --inputs 1): {escape}")
        except Exception as exc:  # the harness itself broke: still one line, not a traceback
            escapes += 1
            print(f"harness error (--seed {seed}): {safe_snippet(repr(exc), 300)}")
        if seed % 50_000 == 0 and seed != options.seed:
            storage.close()  # keep the inbox table from growing over a long run
            storage = Storage(MEMORY)
            ledger = Ledger(storage, "fuzz", wall_clock=time.time)
    elapsed = time.perf_counter() - started
    storage.close()
    rate = options.inputs / elapsed if elapsed > 0 else float("inf")
    print(f"inputs: {options.inputs:,}  time: {elapsed:.1f} s  inputs/s: {rate:,.0f}")
    print(f"escapes: {escapes}" + "".join(f"  {k}: {v}" for k, v in sorted(by_target.items())))
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
