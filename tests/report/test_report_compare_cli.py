"""``shadow-suite report`` and ``compare`` end to end on synthetic lm-eval folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import HOSTILE_NAME, make_run

from shadow_suite.cli import main
from shadow_suite.report.compare import comparison_table, write_comparison
from shadow_suite.report.schema import load_card


def test_report_then_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_run(tmp_path / "a", "org/model-a", drop=0.3, seed=1)
    make_run(tmp_path / "b", HOSTILE_NAME, drop=0.0, seed=2)
    for name in ("a", "b"):
        code = main(
            [
                "report",
                str(tmp_path / name),
                "--out",
                str(tmp_path / f"card_{name}"),
                "--n-boot",
                "300",
            ]
        )
        assert code == 0
        for file in ("card.json", "card.html", "card.md"):
            assert (tmp_path / f"card_{name}" / file).stat().st_size > 0
    out = capsys.readouterr().out
    # single cards: gaps, never a claim about training
    assert "no claim about training" in out and "shadow" not in out.lower()
    card_b = load_card(tmp_path / "card_b")
    assert card_b.gap.headline.reformat_gap == 0.0  # model b: identical answers, gap 0
    assert (tmp_path / "card_b" / "items.parquet").is_file()

    # model a against model b as reference, on the same items: a benchmark-specific gap
    code = main(["report", str(tmp_path / "a"), "--reference", str(tmp_path / "card_b"),
                 "--out", str(tmp_path / "card_ab"), "--n-boot", "300"])  # fmt: skip
    assert code == 0
    assert "Benchmark-specific gap. Against 1 reference model" in capsys.readouterr().out
    card_ab = load_card(tmp_path / "card_ab")
    assert card_ab.gap.headline.verdict_class == "benchmark_specific"
    assert card_ab.gap.reference is not None
    assert card_ab.gap.reference.references == [HOSTILE_NAME]
    # and the other way round there is nothing benchmark-specific
    code = main(["report", str(tmp_path / "b"), "--reference", str(tmp_path / "card_a"),
                 "--out", str(tmp_path / "card_ba"), "--n-boot", "300"])  # fmt: skip
    assert load_card(tmp_path / "card_ba").gap.headline.verdict_class == "no_evidence"

    code = main(
        [
            "compare",
            str(tmp_path / "card_a" / "card.json"),
            str(tmp_path / "card_b"),
            "--out",
            str(tmp_path / "cmp"),
        ]
    )
    assert code == 0
    page = (tmp_path / "cmp" / "compare.html").read_text()
    # one panel per benchmark, each model placed on the rows its headline averages
    assert "<title>mmlu: unchanged item vs variant</title>" in page
    assert page.count("<circle") >= 2
    assert HOSTILE_NAME not in page and "&lt;script&gt;" in page
    assert "<script" not in page
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "org/model-a" in markdown and HOSTILE_NAME not in markdown
    assert len((tmp_path / "cmp" / "compare.csv").read_text().splitlines()) == 3


def test_comparison_table_numbers_come_from_the_cards(tmp_path: Path) -> None:
    make_run(tmp_path / "a", "same/model", drop=0.3, seed=1)
    main(["report", str(tmp_path / "a"), "--out", str(tmp_path / "c"), "--n-boot", "200"])
    card = load_card(tmp_path / "c")
    frame = comparison_table([card, card])
    assert list(frame["model"]) == ["same/model", "same/model #2"]
    row = frame.iloc[0]
    assert row["reformat_gap"] == pytest.approx(card.gap.headline.reformat_gap)
    for bench in card.gap.benchmarks:  # the scatter's numbers: means of the headline's rows
        rows = [v for v in bench.variants if v.in_family and v.family in ("content", "format")]
        if not rows:
            assert pd.isna(row[f"unchanged_{bench.benchmark}"])
            continue
        assert row[f"unchanged_{bench.benchmark}"] == pytest.approx(
            np.mean([v.acc_orig for v in rows])
        )
        assert row[f"variant_{bench.benchmark}"] == pytest.approx(
            np.mean([v.acc_variant for v in rows])
        )
    assert row["acc_mmlu"] == pytest.approx(
        next(b.acc_orig for b in card.gap.benchmarks if b.benchmark == "mmlu")
    )
    paths = write_comparison([card], tmp_path / "one")
    assert paths.html.is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "{tmp}/empty", "--out", "{tmp}/o"], "no lm-eval results_*.json"),
        (["report", "{tmp}/missing", "--out", "{tmp}/o"], "no such file or folder"),
        (["compare", "{tmp}/old.json", "--out", "{tmp}/o"], "older than the supported"),
        (
            ["report", "{tmp}/run", "--reference", "{tmp}/old.json", "--out", "{tmp}/o"],
            "older than the supported",
        ),
        (
            ["report", "{tmp}/run", "--reference", "{tmp}/other_seed", "--out", "{tmp}/o"],
            "made with shadow_seed 7",
        ),
        (
            ["report", "{tmp}/run", "--reference", "{tmp}/fewer", "--out", "{tmp}/o"],
            "lacks",
        ),
        (["compare", "{tmp}/empty", "--out", "{tmp}/o"], "no such card"),
        (
            ["report", "{tmp}/run", "--spectra", "{tmp}/nospec.json", "--out", "{tmp}/o"],
            "no such spectra file",
        ),
    ],
)
def test_cli_bad_input_is_one_line_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    make_run(tmp_path / "run")
    make_run(tmp_path / "other_seed", "org/other")
    for path in (tmp_path / "other_seed").rglob("*.jsonl"):  # variants made with seed 7
        path.write_text(path.read_text().replace('"shadow_seed": 1234', '"shadow_seed": 7'))
    make_run(tmp_path / "fewer", "org/fewer")
    for path in (tmp_path / "fewer").rglob("samples_shadow_mmlu_orig_*.jsonl"):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:-5]))  # five items fewer than the target
    for path in (tmp_path / "fewer").rglob("results_*.json"):
        data = json.loads(path.read_text())
        data["n-samples"]["shadow_mmlu_orig"]["effective"] -= 5
        path.write_text(json.dumps(data))
    (tmp_path / "old.json").write_text(
        json.dumps({"schema": "shadow-suite.card", "schema_version": 0})
    )
    code = main([a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_compare_tests_models_pairwise_on_the_same_items(tmp_path: Path) -> None:
    """Model a loses 30% of its answers when reformatted, model b nothing, same items: the
    comparison pairs them (McNemar on originals, gap difference with a paired CI) instead of
    leaving the reader to see whether two intervals touch."""
    import pandas as pd

    make_run(tmp_path / "a", "org/model-a", drop=0.3, seed=1)
    make_run(tmp_path / "b", "org/model-b", drop=0.0, seed=2)
    for name in ("a", "b"):
        main(["report", str(tmp_path / name), "--out", str(tmp_path / f"card_{name}"),
              "--n-boot", "300"])  # fmt: skip
    assert main(["compare", str(tmp_path / "card_a"), str(tmp_path / "card_b"),
                 "--out", str(tmp_path / "cmp")]) == 0  # fmt: skip
    pairs = pd.read_csv(tmp_path / "cmp" / "compare_pairs.csv")
    orig = pairs[pairs["kind"] == "orig"]
    assert set(orig["benchmark"]) == {"mmlu", "arc_challenge", "gsm8k", "winogrande"}
    assert (orig["p_holm"] >= orig["p_mcnemar"]).all()
    (gap,) = pairs[pairs["kind"] == "gap"].itertuples()
    assert (gap.model_a, gap.model_b) == ("org/model-a", "org/model-b")
    assert gap.delta > 0.05 and gap.ci_low > 0 and gap.p_value < 0.05
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "## Pairwise tests" in markdown and "McNemar p" in markdown
    assert "Pairwise tests" in (tmp_path / "cmp" / "compare.html").read_text()


def test_compare_with_references_draws_their_band_and_tests_against_them(tmp_path: Path) -> None:
    import pandas as pd

    for name, drop, seed in (("a", 0.3, 1), ("r1", 0.0, 2), ("r2", 0.05, 3)):
        make_run(tmp_path / name, f"org/{name}", drop=drop, seed=seed)
        main(["report", str(tmp_path / name), "--out", str(tmp_path / f"card_{name}"),
              "--n-boot", "200"])  # fmt: skip
    assert main(["compare", str(tmp_path / "card_a"), "--reference", str(tmp_path / "card_r1"),
                 "--reference", str(tmp_path / "card_r2"), "--out", str(tmp_path / "cmp")]) == 0  # fmt: skip
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert list(table["role"]) == ["model", "reference", "reference"]
    assert list(table["model"]) == ["org/a", "org/r1 (reference)", "org/r2 (reference)"]
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "<polygon" in page and "references: reformatting gap" in page
    assert page.count('fill="#fff" stroke="#79706e"') >= 2  # hollow reference dots
    pairs = pd.read_csv(tmp_path / "cmp" / "compare_pairs.csv")
    gaps = pairs[pairs["kind"] == "gap"]
    a_vs_refs = gaps[gaps["model_a"] == "org/a"]
    assert len(a_vs_refs) == 2 and (a_vs_refs["delta"] > 0).all()
