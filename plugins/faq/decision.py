"""Turn ranked matches into what the bot does: answer, ask "did you mean…?", or stay silent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from .matcher import Match

__all__ = [
    "DEFAULT_CLARIFY_THRESHOLD",
    "DEFAULT_LEAD_MARGIN",
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "Decision",
    "decide",
]

DEFAULT_THRESHOLD = 0.90
"""Best score at or above which the bot answers (the default method's, see matcher). High
because the lead rule does the answering for hybrid: from 0.44 when the best leads by 0.04;
no lower plain threshold added right answers on the tune split without adding wrong ones,
and the calibration keeps the most careful of equal rules."""

DEFAULT_CLARIFY_THRESHOLD = 0.44
"""Best score at or above which, below the threshold, the bot asks "did you mean…?"."""

DEFAULT_MARGIN = 0.03
"""If the runner-up is this close to the best, the bot asks instead of guessing."""

DEFAULT_LEAD_MARGIN = 0.04
"""How far ahead of the runner-up a best match below the threshold must be to be answered
(with ``lead_threshold``; the default method's value, see matcher.METHOD_LEADS)."""

Kind = Literal["answer", "clarify", "silent"]


@attrs.frozen
class Decision:
    """What to do with a question: the kind, and the matches it is based on (best first)."""

    kind: Kind
    matches: tuple[Match, ...] = ()

    @property
    def best(self) -> Match | None:
        """The best match, if any."""
        return self.matches[0] if self.matches else None


def decide(
    matches: Sequence[Match],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    clarify_threshold: float | None = DEFAULT_CLARIFY_THRESHOLD,
    margin: float = DEFAULT_MARGIN,
    lead_threshold: float | None = None,
    lead_margin: float = DEFAULT_LEAD_MARGIN,
) -> Decision:
    """Decide from ``matches`` (best first).

    Answer when the best score reaches ``threshold`` and no other entry is within ``margin``
    of it, or when it reaches ``lead_threshold`` (None: no such rule) and leads the
    runner-up by ``lead_margin`` or more; clarify when the best reaches
    ``clarify_threshold`` (None: never clarify) or when two entries tie above the
    threshold; otherwise stay silent.

    The lead rule is why a moderate score can be enough: most "did you mean…?" on the tune
    split were a right best match with a modest score and no rival near it, while the wrong
    ones had a close runner-up.
    """
    ranked = tuple(matches)
    if not ranked:
        return Decision("silent")
    best = ranked[0].score
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if best >= threshold and best - runner_up >= margin:
        return Decision("answer", ranked)
    if lead_threshold is not None and best >= lead_threshold and best - runner_up >= lead_margin:
        return Decision("answer", ranked)
    can_clarify = clarify_threshold is not None
    if can_clarify and (best >= threshold or best >= (clarify_threshold or 0.0)):
        return Decision("clarify", ranked)
    return Decision("silent", ranked)
