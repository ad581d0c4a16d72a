"""FAQ matching: quality of each method on the eval set, and speed on a 10k-entry FAQ.

Run: ``python benchmarks/faq.py``. Prints, for each method (blend, bm25, fuzzy):

* the figures of ``agentbot faq eval`` on tests/data/faq_eval at the method's default
  thresholds (precision@1, wrong answers, silence, must-not-answer kept quiet);
* the time to load and index a generated 10,000-entry FAQ file (parse + validation + index
  build), best of 3, as TOML and as JSON;
* per-question latency (p50, p99, max) over 2,000 questions (the eval questions plus random
  word salads), after one warm-up pass.

Targets from issue 7: the 10k FAQ loads in under 1 s; p99 under 2 ms per question. Printed,
never asserted: tests do not measure wall-clock speed.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agentbot_plugins.faq.decision import decide
from agentbot_plugins.faq.entries import load_faq
from agentbot_plugins.faq.evaluate import evaluate, load_eval_set
from agentbot_plugins.faq.matcher import METHOD_THRESHOLDS, FaqIndex, Method

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "tests" / "data" / "faq_eval" / "questions.toml"
ENTRIES = 10_000
QUESTIONS = 2_000
METHODS: tuple[Method, ...] = ("blend", "bm25", "fuzzy")

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "re",
    "su",
    "ta",
    "ne",
    "vi",
    "po",
    "da",
    "ri",
    "te",
    "mo",
    "la",
    "se",
    "ni",
    "ko",
    "be",
    "ru",
    "fa",
    "zu",
]
_TOPICS = (
    "How do I {verb} my {noun}?",
    "Can I {verb} the {noun} {adverb}?",
    "Where is the {noun} for {other}?",
    "What does {noun} {other} cost?",
    "Is {noun} available in {other}?",
)
_VERBS = [
    "return",
    "exchange",
    "order",
    "cancel",
    "track",
    "repair",
    "wash",
    "charge",
    "install",
    "update",
    "reset",
]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def write_big_faq(path: Path, entries: int, rng: random.Random) -> None:
    """Write a FAQ file of ``entries`` generated entries (product-like made-up words)."""
    nouns = [_word(rng) for _ in range(4000)]
    lines = ['lang = "en"', ""]
    for index in range(entries):

        def phrase() -> str:
            return rng.choice(_TOPICS).format(
                verb=rng.choice(_VERBS),
                noun=rng.choice(nouns),
                other=rng.choice(nouns),
                adverb=rng.choice(["today", "online", "abroad", "later"]),
            )

        alternatives = ", ".join(f'"{phrase()}"' for _ in range(3))
        lines += [
            "[[entry]]",
            f'id = "e{index}"',
            f'question = "{phrase()}"',
            f"alternatives = [{alternatives}]",
            f'answer = "Answer {index}: {" ".join(rng.choice(nouns) for _ in range(12))}."',
            'tags = ["generated"]',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def quality() -> None:
    eval_set = load_eval_set(EVAL_FILE)
    print(
        f"quality on {EVAL_FILE.relative_to(ROOT)} ({len(eval_set.faq.entries)} entries, "
        f"{len(eval_set.cases)} questions), each method at its default thresholds:"
    )
    for method in METHODS:
        index = FaqIndex(eval_set.faq.entries, method=method)
        threshold, clarify = METHOD_THRESHOLDS[method]
        report = evaluate(
            eval_set.cases,
            lambda q, index=index, t=threshold, c=clarify: decide(
                index.search(q), threshold=t, clarify_threshold=c
            ),
        )
        print(
            f"  {method:6} (t={threshold:.2f}, clarify={clarify:.2f}): "
            f"precision@1 {report.precision_at_1:.3f}, right {report.answer_rate:.3f}, "
            f"wrong {report.wrong_answer_rate:.3f}, clarify {report.clarify_rate:.3f}, "
            f"silent {report.silence_rate:.3f}, must-not-answer quiet "
            f"{report.must_not_answer_quiet_rate:.3f} ({report.mna_clarified} clarified)"
        )


def _best_load(path: Path, method: Method) -> tuple[float, FaqIndex]:
    """Return the best of 3 load times (parse + validate + index) and the index."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        index = FaqIndex(load_faq(path).entries, method=method)
        times.append(time.perf_counter() - started)
    return min(times), index


def speed() -> None:
    rng = random.Random(7)
    eval_questions = [case.question for case in load_eval_set(EVAL_FILE).cases]
    with tempfile.TemporaryDirectory() as tmp:
        toml_path = Path(tmp) / "big_faq.toml"
        write_big_faq(toml_path, ENTRIES, rng)
        json_path = Path(tmp) / "big_faq.json"
        entries = [
            {
                "id": e.id,
                "question": e.question,
                "alternatives": list(e.alternatives),
                "answer": e.answer,
                "tags": list(e.tags),
            }
            for e in load_faq(toml_path).entries
        ]
        json_path.write_text(json.dumps({"lang": "en", "entry": entries}), encoding="utf-8")
        questions = list(eval_questions)
        while len(questions) < QUESTIONS:
            questions.append(" ".join(_word(rng) for _ in range(rng.randint(2, 7))) + "?")
        print(f"\nspeed on a generated {ENTRIES}-entry FAQ, {len(questions)} questions:")
        for path in (toml_path, json_path):
            seconds, _index = _best_load(path, "blend")
            size_mb = path.stat().st_size / 1e6
            print(f"  load {path.suffix[1:]:4} ({size_mb:.1f} MB): {seconds:.3f} s (best of 3)")
        for method in METHODS:
            index = FaqIndex(load_faq(json_path).entries, method=method)
            asked = questions if method != "fuzzy" else questions[:300]
            for question in asked:  # warm-up: caches and the allocator
                index.search(question)
            timings = []
            for question in asked:
                started = time.perf_counter()
                index.search(question)
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p99 = timings[int(len(timings) * 0.99) - 1]
            print(
                f"  {method:6} per question: p50 {statistics.median(timings):.3f} ms, "
                f"p99 {p99:.3f} ms, max {timings[-1]:.3f} ms ({len(asked)} questions)"
            )


def main() -> None:
    quality()
    speed()
    print(f"\n(python {sys.version.split()[0]}; targets: load < 1 s, p99 < 2 ms)")


if __name__ == "__main__":
    main()
