"""Where the memorization test (issue 21) meets model identity and checked inputs (issue 23):
familiarity samples and familiarity.parquet are checked on the way in like the other
per-item numbers, a reference's familiarity record must be its own model's, references are
read and deduplicated the same way from a script as on a card, and ``run`` records and checks
the familiarity tasks before it evaluates anything."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_helpers import make_run

from shadow_suite.contract import task_name
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.gap import load_results
from shadow_suite.gap.familiarity import (
    FAMILIARITY_FILE,
    familiarity_from_samples,
    read_familiarity,
    write_familiarity,
)
from shadow_suite.gap.items import items_identity
from shadow_suite.gap.memorization import memorization_from_eval
from shadow_suite.report.card import build_card, load_reference, write_card
from shadow_suite.report.identity_checks import check_references_early
from shadow_suite.stage import STAGE_FILE, StageMismatch, stage_is_done
from shadow_suite.taskpack.familiarity import familiarity_docs

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
BENCHMARK = "arc_challenge"
TEXTS = ("familiarity_item", "familiarity_prompt")


def add_familiarity(folder: Path, shift: float = 0.0) -> Path:
    """The familiarity tasks of ARC-Challenge (4 test items, 4 twins, the real documents) added
    to a synthetic lm-eval run; ``shift`` moves the log-likelihoods (another model)."""
    (results_file,) = folder.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    date_id = results_file.stem[len("results_") :]
    for text in TEXTS:
        task = task_name(BENCHMARK, text)
        docs = familiarity_docs(BENCHMARK, text, 1234, None, 4)
        lines = [
            {
                "doc_id": i,
                "doc": doc,
                "bits_per_byte": [-0.5 * (60 + i) - shift, 60 + i],
            }
            for i, doc in enumerate(docs)
        ]
        samples = results_file.parent / f"samples_{task}_{date_id}.jsonl"
        samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
        results["results"][task] = {"alias": task, "bits_per_byte,none": 0.7}
        results["n-samples"][task] = {"original": len(docs), "effective": len(docs)}
    results_file.write_text(json.dumps(results))
    return folder


@pytest.fixture
def target(tmp_path: Path, benchmark_data: Path) -> Path:
    return add_familiarity(make_run(tmp_path / "target", "org/target", seed=1))


def test_a_nan_familiarity_sample_is_one_line_naming_file_task_item_and_field(
    target: Path,
) -> None:
    task = task_name(BENCHMARK, "familiarity_item")
    (path,) = target.rglob(f"samples_{task}_*.jsonl")
    lines = path.read_text().splitlines()
    line = json.loads(lines[1])
    line["bits_per_byte"][0] = float("nan")
    lines[1] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ShadowSuiteError) as err:
        load_results([target])
    message = str(err.value)
    assert f"{path}:2: {task}, item {line['doc']['shadow_id']}: log-likelihood nan" in message
    assert "(bits_per_byte) is not a finite number" in message


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("item_loglikelihood", np.inf, "item_loglikelihood is inf"),
        ("item_bytes", 0, "item_bytes is 0, not a text's length"),
        ("prompt_loglikelihood", np.nan, "prompt_loglikelihood is nan"),
        ("twins_dropped", -3, "twins_dropped is -3"),
    ],
)
def test_impossible_numbers_in_familiarity_parquet_are_refused(
    target: Path, tmp_path: Path, column: str, value: float, message: str
) -> None:
    table = familiarity_from_samples(load_results([target]).familiarity)
    write_familiarity(table, tmp_path / "fine.parquet")
    assert len(read_familiarity(tmp_path / "fine.parquet")) == len(table)  # type: ignore[arg-type]
    table.loc[2, column] = value
    write_familiarity(table, tmp_path / FAMILIARITY_FILE)
    with pytest.raises(ShadowSuiteError) as err:
        read_familiarity(tmp_path / FAMILIARITY_FILE)
    assert f"{FAMILIARITY_FILE}: shadow_{BENCHMARK}_familiarity_" in str(err.value)
    assert f"item {table.loc[2, 'shadow_id']}: {message}" in str(err.value)


def test_a_reference_card_refuses_a_familiarity_record_of_another_model(
    target: Path, tmp_path: Path
) -> None:
    card = build_card([target], n_boot=100)
    card.model.identity = A
    paths = write_card(card, tmp_path / "card")
    assert paths.familiarity is not None and items_identity(paths.familiarity) == A
    reference = load_reference(tmp_path / "card")
    assert reference.model_identity == A and reference.familiarity is not None
    assert card.familiarity is not None
    write_familiarity(card.familiarity, paths.familiarity, B)  # another model's record copied in
    with pytest.raises(ShadowSuiteError, match=r"familiarity\.parquet holds the answers of model"):
        load_reference(tmp_path / "card")


def test_a_script_reads_references_as_a_card_does(target: Path, tmp_path: Path) -> None:
    base = add_familiarity(make_run(tmp_path / "base", "org/base", seed=2), shift=3.0)
    (tmp_path / "base again").symlink_to(base)
    with pytest.warns(UserWarning, match="the same folder"):
        analysis = memorization_from_eval(
            target, [base, tmp_path / "base again"], n_perm=99, n_boot=99
        )
    assert analysis.references == ["org/base"] and analysis.controlled
    with pytest.raises(ShadowSuiteError, match="a model cannot be its own reference"):
        memorization_from_eval(target, [target], n_perm=99, n_boot=99)


def test_run_refuses_a_reference_without_the_familiarity_tasks_before_evaluating(
    target: Path, tmp_path: Path
) -> None:
    from shadow_suite.run import EvalSettings, memorization_measured

    without = make_run(tmp_path / "without", "org/without", seed=3)
    with_them = add_familiarity(make_run(tmp_path / "with", "org/with", seed=4))
    check_references_early([with_them], 1234, None, [BENCHMARK])
    with pytest.raises(ShadowSuiteError) as err:
        check_references_early([without], 1234, None, [BENCHMARK])
    assert "was evaluated without the familiarity tasks" in str(err.value)
    assert f"{BENCHMARK}_familiarity_item" in str(err.value)

    def settings(tasks: tuple[str, ...], items: int | None = 24) -> EvalSettings:
        return EvalSettings("hf", "pretrained=org/model", tasks=tasks, items=items)

    assert BENCHMARK in memorization_measured(settings(("shadow_suite",)))
    assert memorization_measured(settings((f"shadow_{BENCHMARK}",))) == [BENCHMARK]
    assert memorization_measured(settings((f"shadow_{BENCHMARK}_orig",))) == []
    assert memorization_measured(settings((f"shadow_{BENCHMARK}",), items=1)) == []


def test_an_eval_stage_made_without_the_familiarity_tasks_is_not_reused(tmp_path: Path) -> None:
    from shadow_suite.run import FAMILIARITY_RECORD, FORCE_HINT, EvalSettings, eval_record

    group = EvalSettings("hf", "pretrained=org/model", tasks=(f"shadow_{BENCHMARK}",))
    record = eval_record(group)
    assert record[FAMILIARITY_RECORD] == [task_name(BENCHMARK, t) for t in TEXTS]
    variants = EvalSettings("hf", "pretrained=org/model", tasks=(f"shadow_{BENCHMARK}_orig",))
    assert FAMILIARITY_RECORD not in eval_record(variants)  # as recorded before them
    folder = tmp_path / "eval"
    folder.mkdir()
    older = {k: v for k, v in record.items() if k != FAMILIARITY_RECORD}
    (folder / STAGE_FILE).write_text(json.dumps({"settings": older}))
    with pytest.raises(StageMismatch, match=f"{FAMILIARITY_RECORD}: None then") as err:
        stage_is_done(folder, record, label="eval", redo_hint=FORCE_HINT)
    assert "--force" in str(err.value)
    assert not stage_is_done(folder, record, label="eval", redo=True)
    assert stage_is_done(folder, older, label="eval")


def test_a_card_without_familiarity_removes_a_stale_record(target: Path, tmp_path: Path) -> None:
    write_card(build_card([target], n_boot=100), tmp_path / "card")
    assert (tmp_path / "card" / FAMILIARITY_FILE).is_file()
    plain = build_card([make_run(tmp_path / "plain", "org/plain", seed=5)], n_boot=100)
    assert plain.familiarity is not None and plain.familiarity.empty
    paths = write_card(plain, tmp_path / "card")
    assert paths.familiarity is None and not (tmp_path / "card" / FAMILIARITY_FILE).exists()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("alpha",), 7.0, "memorization.alpha: 7.0 is not a share between 0 and 1"),
        (("rows", 0, "n_test"), -5, "memorization.rows[0].n_test: -5 is not a count"),
        (("rows", 0, "p_holm"), 1.5, "memorization.rows[0].p_holm: 1.5 is not a share"),
        (("twins_dropped", BENCHMARK), -1, f"twins_dropped.{BENCHMARK}: -1 is not a count"),
    ],
)
def test_a_card_edited_out_of_range_in_its_memorization_section_is_refused(
    target: Path, path: tuple, value: float, message: str
) -> None:
    from shadow_suite.report.schema import card_from_dict, card_to_dict

    data = card_to_dict(build_card([target], n_boot=100))
    assert card_from_dict(data, "card.json").memorization is not None
    node = data["memorization"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ShadowSuiteError, match=re.escape(message)):
        card_from_dict(data, "card.json")


def test_a_reference_whose_familiarity_is_the_targets_is_refused_without_identities(
    target: Path, tmp_path: Path
) -> None:
    """Plain lm_eval output records no identity: answers decide, the familiarity record's too
    (a reference card with the target's familiarity.parquet copied in would cancel the test)."""
    from shadow_suite.gap.records import ReferenceItems
    from shadow_suite.report.identity_checks import distinct_references

    base = add_familiarity(make_run(tmp_path / "base", "org/base", seed=2), shift=3.0)
    write_card(build_card([base], n_boot=100), tmp_path / "base card")
    assert build_card([target], n_boot=100, references=[tmp_path / "base card"]).memorization
    mine = build_card([target], n_boot=100).familiarity
    assert mine is not None
    write_familiarity(mine, tmp_path / "base card" / FAMILIARITY_FILE)  # the target's, copied in
    with pytest.raises(ShadowSuiteError, match="holds the evaluated model's own familiarity"):
        build_card([target], n_boot=100, references=[tmp_path / "base card"])

    one = load_reference(base)
    other = ReferenceItems(
        "other", one.items.iloc[:0], str(tmp_path / "x"), familiarity=one.familiarity
    )
    kept, warnings = distinct_references([one, other], one.items.iloc[:0], None)
    assert [r.source for r in kept] == [
        one.source
    ] and "identical familiarity log-likelihoods on all 8" in warnings[0]
