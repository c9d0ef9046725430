"""Is a world's base competent enough to test the verdict on? Read from its lm-eval run.

The verdict compares a model's accuracy on a benchmark's own form with its accuracy on
reformatted forms, relative to a reference. A reference (or target) that cannot answer a form
is gated out of that row, so a population whose base cannot answer lettered items measures
nothing (the old validity population: every clean member ``no_verdict``). The requirement,
per form the pack asks (benchmark x variant), on the test items:

- accuracy above chance: the lower end of its 95% Wilson interval above the form's chance;
- no answer position above half of the answers (a model that mostly says "A" is guessing
  with a bias, not answering).

A form whose answer is always the same option (MMLU/ARC ``none_of_the_others`` puts "None
of the others" in the gold's place) shows a position share of 1 by construction; it is
reported, and judged on its accuracy alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from shadow_suite.gap.lm_eval_output import load_results
from shadow_suite.gap.stats import wilson_interval

MAX_POSITION_SHARE = 0.5
FIXED_POSITION_VARIANTS = ("none_of_the_others",)
"""Variants whose gold sits at one position by construction (see the module's note)."""


@dataclass(frozen=True)
class FormCompetence:
    benchmark: str
    variant: str
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    top_position_share: float
    """Share of answers on the most chosen option position (NaN without option answers)."""
    position_checked: bool

    @property
    def above_chance(self) -> bool:
        return self.ci_low > self.chance

    @property
    def positions_ok(self) -> bool:
        return not self.position_checked or self.top_position_share <= MAX_POSITION_SHARE

    @property
    def competent(self) -> bool:
        return self.above_chance and self.positions_ok

    def line(self) -> str:
        flags = []
        if not self.above_chance:
            flags.append("not above chance")
        if not self.positions_ok:
            flags.append(f"one position {100 * self.top_position_share:.0f}% of answers")
        return (
            f"{self.benchmark}/{self.variant}: {100 * self.accuracy:.1f}% "
            f"[{100 * self.ci_low:.1f}, {100 * self.ci_high:.1f}] of {self.n} "
            f"(chance {100 * self.chance:.1f}%; top position "
            f"{100 * self.top_position_share:.0f}%)" + (f" -- {', '.join(flags)}" if flags else "")
        )


@dataclass(frozen=True)
class Competence:
    forms: tuple[FormCompetence, ...]

    @property
    def competent(self) -> bool:
        return bool(self.forms) and all(f.competent for f in self.forms)

    @property
    def failing(self) -> tuple[FormCompetence, ...]:
        return tuple(f for f in self.forms if not f.competent)


def form_competence(
    benchmark: str, variant: str, scores: list[float], chosen: list[int], n_choices: list[int]
) -> FormCompetence:
    """One form's numbers from its items' scores (0/1), chosen options (-1: none) and
    option counts (0: free generation, whose chance is 0)."""
    n = len(scores)
    right = round(sum(scores))
    low, high = wilson_interval(right, n)
    chance = sum(1.0 / c for c in n_choices if c > 0) / n if n else float("nan")
    answers = [c for c in chosen if c >= 0]
    top = max(Counter(answers).values()) / len(answers) if answers else float("nan")
    return FormCompetence(
        benchmark,
        variant,
        n,
        right / n if n else float("nan"),
        low,
        high,
        chance,
        top,
        position_checked=bool(answers) and variant not in FIXED_POSITION_VARIANTS,
    )


def competence(eval_dir: Path) -> Competence:
    """Every shadow task of the lm-eval run under ``eval_dir``."""
    results = load_results([eval_dir])
    forms = []
    for task in sorted(results.tasks.values(), key=lambda t: (t.benchmark, t.variant)):
        ids = sorted(task.scores)
        forms.append(
            form_competence(
                task.benchmark,
                task.variant,
                [task.scores[i] for i in ids],
                [task.details[i].chosen if i in task.details else -1 for i in ids],
                [task.n_choices.get(i, 0) for i in ids],
            )
        )
    return Competence(tuple(forms))
