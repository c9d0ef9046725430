"""Every sentence the card says about a model: the verdict and the words around the numbers.

``gap/`` returns numbers and a machine-readable class (``gap.headline.verdict_class``);
this module turns them into text, once, for the HTML page, the Markdown file, ``compare``
and the CLI. A card without a reference never says "shadow" or implies contamination: clean
models also score lower when a question is reformatted.
"""

from __future__ import annotations

from shadow_suite.gap.analysis import Exclusion, GapAnalysis, VerdictClass
from shadow_suite.gap.pairwise import GapPair
from shadow_suite.gap.records import ReferenceAnalysis
from shadow_suite.report.schema import Card
from shadow_suite.report.text import ci_words, pvalue, signed_pct

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
