"""Reading lm-eval output folders: pairing by shadow_id, merging runs, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fake_lm_eval import Item, simulate, write_run

from shadow_suite.contract import ORIG
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import analyse, load_results


def _statuses(results) -> dict[str, str]:
    return {s.task: s.status for s in results.statuses}


def test_reads_primary_metric_and_pairs_by_shadow_id(tmp_path: Path) -> None:
    orig = [Item(0, True), Item(1, True), Item(2, False), Item(3, True)]
    # variant lines in a different order and without row 1: doc_id positions differ
    variant = [Item(3, False), Item(2, True), Item(0, True)]
    write_run(tmp_path, {("arc_challenge", ORIG): orig, ("arc_challenge", "permuted"): variant})
    results = load_results([tmp_path])
    assert set(results.tasks) == {"shadow_arc_challenge_orig", "shadow_arc_challenge_permuted"}
    task = results.tasks["shadow_arc_challenge_permuted"]
    assert task.metric == "acc_norm,none"
    assert task.scores == {
        "arc_challenge/test/3": 0.0,
        "arc_challenge/test/2": 1.0,
        "arc_challenge/test/0": 1.0,
    }
    assert set(task.n_choices.values()) == {4}
    assert results.runs[0].model_args["token"] == "<redacted>"

    analysis = analyse(results, n_boot=500)
    (bench,) = analysis.benchmarks
    (row,) = bench.variants
    assert row.n_paired == 3
    assert (row.orig_only, row.variant_only) == (1, 1)  # row 3 lost, row 2 gained
    assert row.acc_orig == pytest.approx(2 / 3) and row.acc_variant == pytest.approx(2 / 3)
    assert row.consistency == pytest.approx(1 / 3)
    assert row.n_skipped == 3 and row.n_evaluated == 3
    assert bench.chance == pytest.approx(0.25)


def test_generation_benchmark_uses_strict_match_and_zero_chance(tmp_path: Path) -> None:
    items = [Item(i, i % 3 == 0) for i in range(9)]
    write_run(tmp_path, {("gsm8k", ORIG): items, ("gsm8k", "rephrased"): items})
    results = load_results([tmp_path])
    task = results.tasks["shadow_gsm8k_orig"]
    assert task.metric == "exact_match,strict-match"
    assert sum(task.scores.values()) == 3  # flexible-extract lines (all 1.0) ignored
    bench = analyse(results, n_boot=200).benchmarks[0]
    assert bench.chance == 0.0 and not bench.at_chance
    (row,) = bench.variants
    assert row.gap == 0.0 and row.p_mcnemar == 1.0
    # b = c = 0 on 9 items: the interval still has width (Newcombe, not a zero bootstrap)
    assert row.gap_ci_low < 0 < row.gap_ci_high


def test_generation_with_one_right_answer_is_below_the_floor(tmp_path: Path) -> None:
    items = [Item(i, i == 0) for i in range(20)]
    write_run(tmp_path, {("gsm8k", ORIG): items, ("gsm8k", "rephrased"): items})
    analysis = analyse(load_results([tmp_path]), n_boot=200)
    assert analysis.benchmarks[0].variants[0].gate == "below_floor"
    assert analysis.headline.verdict_class == "no_verdict"


def test_analysis_end_to_end_on_simulated_shadow(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    tasks = simulate(
        {"mmlu": 0.8, "arc_challenge": 0.75}, {"permuted": 0.3, "relabeled": 0.0}, 400, rng, 10
    )
    write_run(tmp_path, tasks)
    analysis = analyse(load_results([tmp_path]), n_boot=1000, seed=1)
    head = analysis.headline
    assert head.benchmarks == ["arc_challenge", "mmlu"]
    # a single card: a gap with its interval, but no claim about training
    assert head.verdict_class == "no_reference" and head.ci_low > 0
    families = {f.family: f for f in analysis.families}
    # the headline is the plain mean of the content and format family gaps
    assert head.reformat_gap == pytest.approx(
        np.mean([families["content"].gap, families["format"].gap])
    )
    for bench in analysis.benchmarks:
        by_variant = {v.variant: v for v in bench.variants if v.baseline == ORIG}
        assert by_variant["permuted"].significant
        assert not by_variant["relabeled"].significant  # identical answers
        assert by_variant["relabeled"].gap == 0.0
        assert by_variant["relabeled"].n_paired == 360  # every 10th item skipped
    # reproducible with the same seed
    again = analyse(load_results([tmp_path]), n_boot=1000, seed=1)
    assert again.headline.ci_low == head.ci_low


def test_at_chance_benchmark_is_left_out_with_warning(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    tasks = simulate({"hellaswag": 0.25}, {"lettered": 0.3}, 200, rng)
    write_run(tmp_path, tasks)
    analysis = analyse(load_results([tmp_path]), n_boot=300)
    assert analysis.benchmarks[0].at_chance
    assert analysis.headline.reformat_gap is None
    (excluded,) = analysis.exclusions
    assert (excluded.key, excluded.code) == ("hellaswag/lettered", "below_floor")
    assert excluded.row is not None and excluded.row.p_floor is not None
    assert analysis.headline.excluded == {}  # the words are the report's
    assert analysis.headline.verdict_class == "no_verdict"


def test_merges_runs_of_one_model_and_keeps_the_latest(tmp_path: Path) -> None:
    items = [Item(i, True) for i in range(5)]
    write_run(tmp_path / "a", {("mmlu", ORIG): items}, date_id="d1", date=1.0)
    write_run(tmp_path / "b", {("winogrande", ORIG): items}, date_id="d2", date=2.0)
    later = [Item(i, False) for i in range(5)]
    write_run(tmp_path / "c", {("mmlu", ORIG): later}, date_id="d3", date=3.0)
    results = load_results([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert set(results.tasks) == {"shadow_mmlu_orig", "shadow_winogrande_orig"}
    assert sum(results.tasks["shadow_mmlu_orig"].scores.values()) == 0
    assert "replaced" in [s.status for s in results.statuses if s.task == "shadow_mmlu_orig"]
    assert _statuses(results)["shadow_gsm8k"] == "not_run"


def test_partial_run_is_reported_per_task(tmp_path: Path) -> None:
    items = [Item(i, True) for i in range(5)]
    write_run(tmp_path, {("mmlu", ORIG): items, ("mmlu", "permuted"): items})
    (path,) = tmp_path.rglob("samples_shadow_mmlu_permuted_*.jsonl")
    path.unlink()
    write_run(tmp_path / "x", {("arc_challenge", "permuted"): items}, date_id="d9")
    results = load_results([tmp_path])
    statuses = _statuses(results)
    assert statuses["shadow_mmlu_permuted"] == "missing_samples"
    assert statuses["shadow_arc_challenge_permuted"] == "no_orig"
    assert statuses["shadow_mmlu_orig"] == "ok"
    analysis = analyse(results, n_boot=200)
    codes = {ex.key: ex.code for ex in analysis.exclusions}
    assert codes["mmlu"] == "no_variant"  # orig only, nothing paired
    assert codes["arc_challenge"] == "no_original"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty", r"no lm-eval results_\*\.json"),
        ("no_samples", "rerun lm_eval with --log_samples"),
        ("corrupt_results", "corrupt JSON"),
        ("corrupt_samples", ":2: corrupt JSON"),
        ("non_shadow", "no shadow-suite tasks"),
        ("other_model", "results of different models"),
        ("other_seed", "conflicting fewshot_seed"),
        ("not_shadow_doc", "lacks shadow_id"),
        ("missing_path", "no such file or folder"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path: Path, setup: str, message: str) -> None:
    items = [Item(i, True) for i in range(3)]
    tasks = {("mmlu", ORIG): items}
    target = tmp_path
    if setup == "no_samples":
        write_run(tmp_path, tasks, with_samples=False)
    elif setup == "corrupt_results":
        path = write_run(tmp_path, tasks)
        path.write_text(path.read_text()[:50])
    elif setup == "corrupt_samples":
        write_run(tmp_path, tasks)
        (path,) = tmp_path.rglob("samples_*.jsonl")
        lines = path.read_text().splitlines()
        path.write_text(lines[0] + "\n{not json\n")
    elif setup == "non_shadow":
        path = write_run(tmp_path, {}, extra_tasks={"arc_easy": {"acc,none": 0.5}})
    elif setup == "other_model":
        write_run(tmp_path / "a", tasks, model_name="org/a")
        write_run(tmp_path / "b", {("arc_challenge", ORIG): items}, model_name="org/b")
    elif setup == "other_seed":
        write_run(tmp_path / "a", tasks, date_id="d1")
        write_run(tmp_path / "b", {("arc_challenge", ORIG): items}, date_id="d2", fewshot_seed=9)
    elif setup == "not_shadow_doc":
        write_run(tmp_path, tasks)
        (path,) = tmp_path.rglob("samples_*.jsonl")
        line = json.loads(path.read_text().splitlines()[0])
        del line["doc"]["shadow_id"]
        path.write_text(json.dumps(line) + "\n")
    elif setup == "missing_path":
        target = tmp_path / "nope"
    with pytest.raises(ShadowSuiteError, match=message) as err:
        load_results([target])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("answer", "lls", "acc", "gold", "chosen"),
    [
        ("2", (-99.2, -99.0), 1.0, 1, 1),
        ("1", (-99.2, -99.0), 0.0, 0, 1),
        ("1", (-5, -6), 1.0, 0, 0),
    ],
)
def test_winogrande_form_takes_its_gold_from_the_doc(
    answer: str, lls: tuple[float, float], acc: float, gold: int, chosen: int
) -> None:
    """lm-eval's WinoGrande puts the options in the contexts and logs the shared
    continuation as the target, so the target names no option (reading it gave gold 0 and
    an unknown chosen option for about half the items, which gated every row out)."""
    from shadow_suite.gap.lm_eval_output import _detail

    line = {
        "doc": {"sentence": "Sarah ... so _ always got the easier cases.", "option1": "Sarah",
                "option2": "Maria", "answer": answer},
        "target": "always got the easier cases.",
        "arguments": {
            "gen_args_0": {"arg_0": "... so Sarah", "arg_1": " always got the easier cases."},
            "gen_args_1": {"arg_0": "... so Maria", "arg_1": " always got the easier cases."},
        },
        "filtered_resps": [[str(lls[0]), "False"], [str(lls[1]), "False"]],
        "acc": acc,
    }  # fmt: skip
    detail = _detail(line, "acc", 2, correct=bool(acc))
    assert detail is not None
    assert (detail.gold, detail.chosen) == (gold, chosen)
