"""Every sentence the card says about a model: the verdict and the words around the numbers.

``gap/`` returns numbers and a machine-readable class (``gap.headline.verdict_class``);
this module turns them into text, once, for the HTML page, the Markdown file, ``compare``
and the CLI. A card without a reference never says "shadow" or implies contamination: clean
models also score lower when a question is reformatted.
"""

from __future__ import annotations

from collections.abc import Sequence

from shadow_suite.error_rates import ErrorRates, MeasuredRate
from shadow_suite.gap.analysis import Exclusion, GapAnalysis, VariantGap, VerdictClass
from shadow_suite.gap.pairwise import GapPair, OrigPair
from shadow_suite.gap.records import ReferenceAnalysis
from shadow_suite.gap.verdict_rows import VerdictFamily
from shadow_suite.report.schema import Card
from shadow_suite.report.text import ci_words, pct, pvalue, signed_pct

CLASS_TITLES: dict[VerdictClass, str] = {
    "benchmark_specific": "Benchmark-specific gap",
    "no_evidence": "No evidence of a benchmark-specific gap",
    "inconclusive": "Inconclusive",
    "no_reference": "Reformatting gaps (no reference model: no claim about training)",
    "no_verdict": "No verdict",
}
"""Short title per verdict class (``gap.analysis.VerdictClass``)."""

FAMILY_WORDS = {
    "content": "content (same question, surface moved)",
    "format": "format (same item, another format)",
    "hard": "hard (harder for every model)",
}


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def verdict_sentence(card: Card) -> str:
    """The card's first paragraph: which class, against which references, on how many items."""
    h = card.gap.headline
    cls = h.verdict_class
    scope = (
        f"on {h.n_items} items of {len(h.benchmarks)} benchmark"
        f"{'s' if len(h.benchmarks) != 1 else ''} ({_names(h.benchmarks)})"
    )
    refs = f"Against {len(h.references)} reference model{'s' if len(h.references) != 1 else ''} ({_names(h.references)})"
    margin = f"{100 * h.margin:.0f} points"
    if cls == "no_verdict":
        if h.references and h.reformat_gap is not None:
            return (
                f"Against {len(h.references)} reference(s) ({_names(h.references)}): no row "
                "the target passes the gates on is shared with the references."
            )
        return (
            "No benchmark row passed the gates (every row is degenerate, at the "
            "chance floor, or unpaired), so the reformatting gaps here say nothing about the "
            "model; see the excluded rows below."
        )
    if cls == "no_reference":
        return (
            f"Reformatting gap {signed_pct(h.reformat_gap)} points (95% CI {ci_words(h.ci_low, h.ci_high)}; "
            f"content and format families averaged) {scope}. Clean models show such gaps too "
            "(format sensitivity, option-order bias), so without a base or reference model "
            "evaluated on the same items this card makes no claim about training; run with "
            "--base or --reference to get a verdict."
        )
    p = pvalue(h.p_value)
    delta = (
        f"the gap exceeds the references' by {signed_pct(h.delta)} points (95% CI "
        f"{ci_words(h.delta_ci_low, h.delta_ci_high)}, one-sided permutation "
        f"p {p if p.startswith('<') else '= ' + p})"
    )
    if cls == "benchmark_specific":
        return (
            f"{refs}, {delta} {scope}, above the {margin} margin. The model loses more than "
            "the references when the same questions are reformatted: its score is specific to "
            "the benchmark's form. That is what benchmark-aligned training does; whether this "
            "model saw the test items is the memorization test's question, not this verdict's."
        )
    if cls == "no_evidence":
        return (
            f"{refs}, {delta} {scope}; the interval lies below the {margin} margin, so any "
            "excess over the references is smaller than that."
        )
    return (
        f"{refs}, {delta} {scope}; neither above nor below the {margin} margin. This sample "
        f"would detect a true excess of {signed_pct(h.mde)} points with 80% power."
    )


def verdict_paragraph(card: Card) -> str:
    """The class's title and the verdict sentence: what the commands print, and the first
    line of every rendering."""
    return f"{CLASS_TITLES[card.gap.headline.verdict_class]}. {verdict_sentence(card)}"


def _option(position: int | None) -> str:
    if position is None or not 0 <= position < 26:
        return f"option {position}"
    return f"option {chr(65 + position)}"


def exclusion_reason(exclusion: Exclusion) -> str:
    """Why a row or benchmark carries no verdict: its code, then its numbers in words (the
    card's ``headline.excluded`` values, which :func:`excluded_sentence` reads back)."""
    row = exclusion.row
    if exclusion.code == "degenerate" and row is not None:
        return (
            f"degenerate: answers {_option(row.modal_position)} on "
            f"{100 * (row.modal_share or 0):.0f}% of items ({row.modal_form})"
        )
    if exclusion.code == "below_floor" and row is not None:
        return (
            f"below_floor: pooled accuracy {100 * (row.pooled_accuracy or 0):.1f}% does not "
            f"clear {100 * (row.floor or 0):.1f}% (one-sided p = {row.p_floor:.2g})"
        )
    return {
        "no_answers": "no_answers: the samples do not record the chosen option (an older run)",
        "no_variant": "unpaired: no variant of this benchmark was scored",
        "no_original": "no original (orig) results to pair with",
    }.get(exclusion.code, "unpaired: no item scored in both forms")


def excluded_reasons(analysis: GapAnalysis) -> dict[str, str]:
    """``headline.excluded``: every exclusion of ``analysis``, key -> reason, in card order."""
    return {ex.key: exclusion_reason(ex) for ex in analysis.exclusions}


def excluded_sentence(key: str, reason: str) -> str:
    """One excluded row, in words, from its gate code and numbers."""
    code, _, detail = reason.partition(": ")
    words = {
        "degenerate": "degenerate, carries no verdict",
        "below_floor": "at the chance floor in both forms, carries no verdict",
        "no_answers": "cannot be gated",
        "unpaired": "nothing to pair",
    }.get(code, code)
    return f"{key}: {words} ({detail})" if detail else f"{key}: {words}"


def reference_note(card: Card) -> list[str]:
    """What the reference comparison rests on, for the evidence list."""
    ref = card.gap.reference
    if ref is None:
        return []
    lines = [
        f"References: {', '.join(ref.references)}; each cell compares the target's gap with "
        f"the references' mean gap on the same items ({ref.n_perm} sign-flip permutations).",
    ]
    for fam in ref.families:
        lines.append(
            f"{FAMILY_WORDS.get(fam.family, fam.family)}: delta {signed_pct(fam.delta)} points "
            f"(95% CI {ci_words(fam.ci_low, fam.ci_high)}, Holm p = {pvalue(fam.p_holm)}, "
            f"{fam.n_items} items)"
        )
    lines += ref.notes
    return lines


def reference_gate_notes(reference: ReferenceAnalysis) -> list[str]:
    """One note per row on which a reference's own answers fail a gate."""
    return [
        f"{cell.benchmark}/{cell.variant}: reference {name} is {gate} on this row; it still "
        "serves as the baseline"
        for cell in reference.cells
        for name, gate in zip(reference.references, cell.reference_gates, strict=True)
        if gate != "ok"
    ]


def single_card_caveat() -> str:
    return (
        "A reformatting gap alone cannot tell benchmark-aligned training from format "
        "sensitivity: "
        "Mistral-7B, a clean model, scores 62.6 on lettered MMLU and 47.2 in cloze form. "
        "Each family is reported apart; only a comparison with a base or reference model on "
        "the same items can call a gap benchmark-specific."
    )


def spectral_caveat() -> str:
    """What the weight spectra can and cannot say, under every spectral section."""
    return (
        "What this section shows: how far and in how many directions the weights moved "
        "(from the base, where one is given). What it does not show: what the model was "
        "trained on. On the validity population (toy fine-tunes of one base whose training "
        "is known; README, 'Measured error rates') the update's size separated contaminated "
        "from clean fine-tunes, but those also differed in the kind of text they saw, so a "
        "large or concentrated update is not evidence of contamination on its own and no "
        "verdict uses it."
    )


def chat_settings(card: Card) -> str:
    """How prompts were formatted: the chat template (its hash), few-shot turns, system
    instruction; for the provenance tables."""
    m = card.model
    if m.chat_template_applied is None and not m.chat_template_sha:
        return "not recorded"
    if not m.chat_template_applied and not m.chat_template_sha:
        text = "not applied (plain prompts)"
    else:
        sha = (m.chat_template_sha or "n/a")[:12]
        turns = {True: "few-shot as chat turns", False: "few-shot in one user turn"}
        text = f"applied (sha256 {sha})"
        if m.fewshot_as_multiturn is not None:
            text += f", {turns[m.fewshot_as_multiturn]}"
    if m.system_instruction_sha:
        text += f"; system instruction sha256 {m.system_instruction_sha[:12]}"
    return text


def pair_note(pair: GapPair) -> str:
    """Why a pair of models has no gap difference: the reference check's message, or that no
    row passes the gates for both."""
    if pair.delta is None and not pair.note:
        return "no row passes the gates for both models"
    return pair.note


PAIRWISE_NOTE = (
    "Paired tests on the items both models scored, not a look at whether two intervals "
    "touch. Originals: exact McNemar test of the items right in one model only, Holm across "
    "every row. Reformatting gaps: per item, A's gap minus B's on the rows that pass the "
    "gates for both models (content and format families, as a card's headline), with a "
    "bootstrap CI that resamples items with both models together and a one-sided sign-flip "
    "permutation p (B plays the reference; a difference says which model is more specific "
    "to the benchmark's form, not how either was trained)."
)
"""What the comparison page's pairwise tables are (``gap.pairwise``)."""


# -- the first screen: what each number averages, the caveats, the next steps ---------------

VERDICT_CLASSES: tuple[VerdictClass, ...] = ("benchmark_specific", "no_evidence", "inconclusive")
"""The classes that are a verdict against references: the card cites its error rates."""


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def averages_sentence(card: Card, families: Sequence[VerdictFamily]) -> str:
    """One line: what the headline number averages, down to the rows the table lists."""
    h = card.gap.headline
    with_refs = bool(h.references) and h.delta is not None
    parts = []
    for fam in families:
        value = fam.reference.delta if with_refs and fam.reference else fam.gap.gap
        parts.append(f"{fam.family} {signed_pct(value)} (mean of {_count(len(fam.rows), 'row')})")
    if not parts:
        return ""
    number = signed_pct(h.delta if with_refs else h.reformat_gap)
    what = "delta" if with_refs else "reformatting gap"
    row = (
        "a row's delta is the model's gap minus the references' on the same items, and a gap "
        if with_refs
        else "a row's gap "
    )
    return (
        f"The {what} {number} is the mean of the {' and '.join(p for p in parts)} family "
        f"{'deltas' if with_refs else 'gaps'}; {row}is the accuracy on the unchanged item "
        "minus the accuracy on the variant, on the items paired in both forms. The "
        "benchmark tiles are accuracies on every original item, as leaderboards report them."
    )


def measured_rate(rate: MeasuredRate) -> str:
    """'1 of 9 (11.1%, 95% CI 0.3-48.2%)'."""
    share = "n/a" if rate.rate is None else f"{pct(rate.rate)}%"
    return f"{rate.k} of {rate.n} ({share}, 95% CI {pct(rate.ci_low)}-{pct(rate.ci_high)}%)"


def error_rates_caveat(rates: ErrorRates | None) -> str:
    """The verdict's measured false-positive and detection rates, with the world they were
    measured in and its limits, from the document the card recorded."""
    if rates is None:
        return (
            "This card does not record the error rates of its verdict (it was made before "
            "shadow-suite recorded them); see the README's 'Measured error rates'."
        )
    return (
        f"Measured error rates of this verdict ({rates.source}, {rates.measured_on}): "
        f"clean models called benchmark_specific {measured_rate(rates.false_positive)}; "
        f"contaminated ones detected {measured_rate(rates.detection)} (those whose original "
        f"accuracy rose {pct(rates.detection_min_gain, 0)} points or more). World: "
        f"{rates.world}. Limits: {rates.limits}."
    )


def no_reference_caveat() -> str:
    return (
        "No reference model: a reformatting gap alone cannot tell benchmark-aligned training "
        "from format sensitivity (Mistral-7B, a clean model, scores 62.6 on lettered MMLU "
        "and 47.2 in cloze form); run with --base or --reference for a verdict."
    )


def reference_gate_caveat(failing: Sequence[tuple[str, str, str]], n_rows: int) -> str:
    """``failing``: (reference, row, gate) of the rows in the verdict where a reference fails
    a gate itself."""
    rows = {row for _, row, _ in failing}
    listed = "; ".join(f"{name} {gate} on {row}" for name, row, gate in failing[:4])
    more = f"; and {len(failing) - 4} more" if len(failing) > 4 else ""
    return (
        f"The verdict rests on {len(rows)} of its {_count(n_rows, 'row')} where a reference "
        f"fails a gate itself ({listed}{more}): there the reference's gap is its answer "
        "pattern (one letter, or chance), not its knowledge, so the delta is close to the "
        "model's own gap."
    )


def weaker_reference_caveat(pairs: Sequence[OrigPair]) -> str:
    listed = "; ".join(
        f"{p.model_b} {pct(p.acc_b)}% vs {pct(p.acc_a)}% on {p.benchmark} ({p.n_items} "
        f"items, Holm p = {pvalue(p.p_holm)})"
        for p in pairs
    )
    return (
        f"Much weaker reference on the original items ({listed}): a model that answers little "
        "has little to lose when a question is reformatted, so the delta may reflect ability "
        "as much as training; add a reference of the model's strength."
    )


def public_seed_caveat(seed: int) -> str:
    return (
        f"Variants made with the public default seed {seed}: anyone, a vendor included, can "
        "generate and train on them. For an audit, rerun with --seed fresh and keep the seed "
        "private (references need the same seed)."
    )


def first_n_caveat(limits: Sequence[float]) -> str:
    n = ", ".join(f"{x:g}" for x in limits)
    return (
        f"lm-eval's --limit {n} (run --first {n}): the first items of each task, not a random "
        "sample (MMLU's first are all one subject), and variants that skip items pair fewer; "
        "run --limit N draws a seeded sample instead."
    )


def sample_caveat(sizes: Sequence[int]) -> str:
    n = ", ".join(str(x) for x in sizes)
    return (
        f"A seeded sample of {n} items per benchmark (run --limit {n}), the same items in "
        "every form: the accuracies estimate the whole benchmark's within their intervals, "
        "and are not the leaderboard figures."
    )


def _rows_named(keys: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def decide_step(
    delta: float,
    margin: float,
    n_items: int,
    needed: int,
    limit_now: int | None = None,
    limit_needed: int | None = None,
) -> str:
    """Inconclusive: the items that would decide the observed delta at 80% power; with a
    per-benchmark item count (``limit_now``), the ``run --limit`` that reaches them."""
    goal = (
        f"above the {pct(margin, 0)}-point margin (benchmark_specific)"
        if delta > margin
        else f"below the {pct(margin, 0)}-point margin (no_evidence)"
    )
    flag = (
        f": run --limit {limit_needed:,} instead of {limit_now} items per benchmark"
        if limit_now is not None and limit_needed is not None
        else ""
    )
    return (
        f"If the true delta is the observed {signed_pct(delta)} points, about "
        f"{needed:,} items ({needed / n_items:.1f} times these {n_items}) would put its "
        f"interval {goal} with 80% power, if the items vary as these do{flag}."
    )


def gated_step(excluded: Sequence[VariantGap], keys: Sequence[str]) -> str:
    """Which rows the gates left out and why (``excluded[i]`` is the row named ``keys[i]``)."""
    degenerate = [k for k, r in zip(keys, excluded, strict=True) if r.gate == "degenerate"]
    floor = [k for k, r in zip(keys, excluded, strict=True) if r.gate == "below_floor"]
    other = [
        k
        for k, r in zip(keys, excluded, strict=True)
        if r.gate not in ("degenerate", "below_floor")
    ]
    parts = []
    if degenerate:
        parts.append(f"{len(degenerate)} degenerate (one answer on over 70% of items: "
                     f"{_rows_named(degenerate)})")  # fmt: skip
    if floor:
        parts.append(f"{len(floor)} at the chance floor ({_rows_named(floor)})")
    if other:
        parts.append(f"{len(other)} without the answers the gates need ({_rows_named(other)})")
    return f"The gates left out {_count(len(excluded), 'row')}: {'; '.join(parts)}."


def chat_template_step(model: str) -> str:
    return (
        f"If {model} is an instruct or chat model, rerun with --apply_chat_template: without "
        "its template it reads prompts it was never tuned on, which often ends in one letter "
        "for every item."
    )


FEWSHOT_STEP = (
    "Few-shot examples show a model the answer format (--preset open-llm-v1, or "
    "--num_fewshot N); a model that still answers one letter on a format cannot be judged on "
    "it, and no flag changes that: only a model that can answer the format can."
)


def floor_steps(near: Sequence[tuple[str, int, int]], at_chance: Sequence[str]) -> list[str]:
    """Rows gated at the floor: ``near`` (row, items that would clear it, items now) sit
    above chance but not clearly; ``at_chance`` at or below it."""
    out = []
    if near:
        listed = "; ".join(
            f"{key} at about {needed:,} items ({needed / n:.1f} times these {n})"
            for key, needed, n in near[:4]
        )
        out.append(
            f"Above chance but not clearly, so more items would clear the floor with 80% "
            f"power: {listed}{'; and others' if len(near) > 4 else ''}."
        )
    if at_chance:
        out.append(
            f"At or near chance in both forms ({_rows_named(at_chance)}): no practical number "
            "of items lifts a row off the floor (over 10 times these would be needed, or it is "
            "not above chance at all); few-shot examples or a stronger model might."
        )
    return out


NO_ANSWERS_STEP = (
    "Some samples do not record the chosen option (an older run): evaluate again with this "
    "shadow-suite (`shadow-suite run`, or lm_eval with --log_samples)."
)
FIRST_N_STEP = (
    "run --first N (lm-eval's --limit) scored each task's first items, so variants that skip "
    "items pair fewer: run --limit N instead, the same seeded items in every form."
)
NEEDS_REFERENCE_STEP = (
    "Even with rows that pass the gates, a verdict needs a reference evaluated on the same "
    "items: --base BASE_MODEL (run) or --reference DIR."
)


# -- the comparison page ----------------------------------------------------------------------


def scatter_caption(references: bool) -> str:
    """What the comparison page's per-benchmark scatters draw."""
    band = (
        " Hollow grey dots are trusted references (--reference); the grey band spans their "
        "gaps on that benchmark: a model below it loses more than every reference."
        if references
        else ""
    )
    return (
        "One panel per benchmark. A dot is a model, placed on the rows of that benchmark its "
        "card's headline averages: x is the mean accuracy on the unchanged items of those "
        "rows, y the mean accuracy on their variants (each row on the items paired in both "
        "forms). Below the dashed diagonal the model does worse on the variants; the vertical "
        "distance is the mean of those rows' gaps." + band
    )


def panel_rows_note(rows: dict[str, str]) -> str:
    """Which rows each dot of a panel averages: once when every model has the same rows."""
    distinct = set(rows.values())
    if len(distinct) == 1:
        return f"Every dot on the same rows: {next(iter(distinct))}."
    listed = "; ".join(f"{model}: {r}" for model, r in rows.items())
    return f"The dots average different rows (not the same items): {listed}."


def panel_missing_note(benchmark: str, models: Sequence[str]) -> str:
    return (
        f"Not placed: {', '.join(models)} ({benchmark} scored, but no row of it in the "
        "headline: its card says why)."
    )


NO_PANEL = (
    "No model has a row in its headline (every row was gated out, or no variant was scored), "
    "so no model can be placed on a benchmark; each card's first screen says why and what "
    "would change it."
)
COMPARE_SOURCE_NOTE = (
    "Numbers are taken from each card unchanged; see a card's first screen and method notes "
    "for what they mean."
)


def compare_error_rates(cards: Sequence[Card]) -> str:
    """The measured error rates once for the page, when one of its cards is a verdict against
    references and records them (every card made by one shadow-suite records the same)."""
    cited = [
        c.error_rates
        for c in cards
        if c.gap.headline.verdict_class in VERDICT_CLASSES and c.error_rates is not None
    ]
    if not cited:
        return ""
    distinct = {(r.measured_on, r.source) for r in cited}
    text = error_rates_caveat(cited[0])
    if len(distinct) > 1:
        text += " (The cards record different error-rate documents; each card cites its own.)"
    return text


def schema_note(card: Card) -> str:
    """Where the fields of card.json are documented (the provenance's 'card schema' row)."""
    return (
        f"{card.schema} v{card.schema_version}; every field of card.json is documented in "
        "shadow_suite/report/SCHEMA.md (in the package and the repository; the HTML card "
        "carries a copy at its end)"
    )


def verdict_printout(card: Card) -> str:
    """What ``report`` and ``run`` print: the verdict paragraph and, next to a verdict against
    references, its measured error rates."""
    lines = [verdict_paragraph(card)]
    if card.gap.headline.verdict_class in VERDICT_CLASSES:
        lines.append(error_rates_caveat(card.error_rates))
    return "\n".join(lines)
