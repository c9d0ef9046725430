"""The card's memorization evidence in words: its line in the first paragraph and its section.

Numbers come from ``card.memorization`` (:mod:`shadow_suite.gap.memorization`); this module
only words them, once, for the HTML page, the Markdown file and the commands' output. It is
evidence beside the reformatting verdict, never merged into its class: the two see different
trainings, and the section says which.
"""

from __future__ import annotations

from shadow_suite.gap.familiarity import FAMILIARITY_FILE
from shadow_suite.gap.memorization import FEATURES, MemorizationAnalysis, MemorizationRow
from shadow_suite.report.rows import Section, Table
from shadow_suite.report.schema import Card
from shadow_suite.report.text import pvalue
from shadow_suite.taskpack.suite import get_benchmark

NOT_MEASURED_WORDS = {
    "not_evaluated": "evaluated without the familiarity tasks",
    "no_twin_set": "no twin set (the data has no {split} split for it)",
    "no_twin_left": "no twin set (every row of its {split} split repeats a test question)",
    "too_few_items": "fewer than two test items or twins scored",
}

WHAT_EACH_SEES = (
    "The reformatting verdict and this test see different trainings, and neither speaks for "
    "the other. A model trained on the test items in every format keeps its score when they "
    "are reformatted, which the reformatting test cannot see, but finds them more familiar "
    "than their twins, which this test sees. A model trained on other items in the "
    "benchmark's format (benchmark-aligned, not the test items) is the reverse: a "
    "reformatting gap, and no excess familiarity with the test items."
)

METHOD = (
    "Each test item and each twin (an item of a sibling split of the same distribution that "
    "the test never scores) is scored as text by lm-eval (loglikelihood_rolling). Per item, "
    "x = the target's familiarity{minus}; the statistic is the mean of x over the test items "
    "minus its mean over the twins. p: one-sided permutation test exchanging the test and twin "
    "labels ({n_perm} relabellings), whose false-positive rate is at most alpha by "
    "construction when the two sets are exchangeable for a model trained on neither; Holm "
    "across the benchmarks; 95% CI: bootstrap of each set apart; MDE: the smallest excess "
    "detected with 80% power. Feature of the test: {feature}, in {unit}; the other "
    "features are shown for comparison and carry no claim."
)


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3f}"


def _interval(low: float | None, high: float | None) -> str:
    return "n/a" if low is None or high is None else f"[{low:+.3f}, {high:+.3f}]"


def _p(p: float | None) -> str:
    text = pvalue(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _not_measured(analysis: MemorizationAnalysis) -> list[str]:
    return [
        f"{benchmark}: "
        + NOT_MEASURED_WORDS[code].format(split=get_benchmark(benchmark).twin_split)
        for benchmark, code in sorted(analysis.not_measured.items())
    ]


def _control(analysis: MemorizationAnalysis) -> str:
    """How x was made, and the benchmarks left out: the end of the line."""
    if analysis.controlled:
        text = f"beyond the references ({', '.join(analysis.references)})"
    else:
        text = (
            "on raw familiarity: without a reference, a difference between the two splits' "
            "texts is not controlled"
        )
    if analysis.not_measured:
        text += f"; not measured: {', '.join(sorted(analysis.not_measured))} (see below)"
    return text


def memorization_line(card: Card) -> str | None:
    """One line for the card's first paragraph (None for a card made before the test)."""
    analysis = card.memorization
    if analysis is None:
        return None
    rows = analysis.primary_rows()
    if not rows:
        reasons = "; ".join(_not_measured(analysis)) or "no benchmark scored"
        return f"Memorization not measured ({reasons})."
    unit = FEATURES[analysis.feature].unit
    found = [r for r in rows if r.p_holm is not None and r.p_holm < analysis.alpha]
    if found:
        parts = [
            f"on {r.benchmark} by {_number(r.excess)} {unit} {_interval(r.ci_low, r.ci_high)}, "
            f"{_p(r.p_value)} (Holm {pvalue(r.p_holm)}, {r.n_test} test items, {r.n_twin} twins)"
            for r in found
        ]
        found_words = "; ".join(parts)
        return f"Test items more familiar than their twins {found_words}, {_control(analysis)}."
    parts = [
        f"{r.benchmark}: MDE {'n/a' if r.mde is None else f'{r.mde:.3f}'} {unit}, {_p(r.p_value)}"
        for r in rows
    ]
    tested = "; ".join(parts)
    return f"No excess familiarity of the test items over their twins ({tested}), {_control(analysis)}."


def memorization_table(analysis: MemorizationAnalysis) -> Table:
    def cells(r: MemorizationRow) -> list[str]:
        role = "test" if r.feature == analysis.feature else "comparison"
        return [r.benchmark, f"{r.feature} ({role})", r.unit, str(r.n_test), str(r.n_twin),
                _number(r.test_mean), _number(r.twin_mean), _number(r.excess),
                _interval(r.ci_low, r.ci_high), pvalue(r.p_value), pvalue(r.p_holm),
                "n/a" if r.mde is None else f"{r.mde:.3f}"]  # fmt: skip

    headers = ["benchmark", "feature", "unit", "test items", "twins", "test mean", "twin mean",
               "excess", "95% CI", "p (one-sided)", "Holm p", "MDE"]  # fmt: skip
    return Table(
        headers,
        [cells(r) for r in analysis.rows],
        [False, False, False] + [True] * 9,
        [
            r.feature == analysis.feature and r.p_holm is not None and r.p_holm < analysis.alpha
            for r in analysis.rows
        ],
    )


def memorization_section(card: Card) -> Section | None:
    """The card's memorization section: what was measured, the table, what it cannot see."""
    analysis = card.memorization
    if analysis is None:
        return None
    feature = FEATURES[analysis.feature]
    minus = (
        " minus the references' mean on the same item"
        if analysis.controlled
        else " (no reference: raw)"
    )
    section = Section(
        "Memorization: test items against their twins",
        paragraphs=[
            memorization_line(card) or "",
            METHOD.format(
                minus=minus,
                n_perm=analysis.n_perm,
                feature=feature.description,
                unit=feature.unit,
            ),
            WHAT_EACH_SEES,
        ],
    )
    notes = _not_measured(analysis)
    measured = {r.benchmark for r in analysis.rows}
    notes += [
        f"{b}: {n} twin rows left out, their question repeating a test question"
        for b, n in sorted(analysis.twins_dropped.items())
        if n and b in measured
    ]
    if "gsm8k" in measured:
        notes.append(
            "gsm8k: its twins are its train split, which many models train on legitimately; "
            "that makes the twins more familiar, so the one-sided test is conservative there "
            "(it misses more, it does not flag more)"
        )
    if not analysis.controlled and analysis.rows:
        notes.append(
            "No reference model: familiarity is the model's own, so the two splits' own "
            "differences (topics, lengths, style) are not subtracted; run with --base or "
            "--reference to control them"
        )
    section.bullets = [*notes, f"Per-item familiarity: {FAMILIARITY_FILE} beside this card."]
    if analysis.rows:
        section.tables.append(memorization_table(analysis))
    return section
