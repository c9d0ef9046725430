def test_missing_numbers_show_as_na_not_nan() -> None:
    import pandas as pd

    from shadow_suite.report.compare import _display

    frame = pd.DataFrame(
        [
            {"model": "at-chance", "backend": "hf", "verdict_class": "no_verdict",
             "reformat_gap": None, "gap_ci_low": None, "gap_ci_high": None, "acc_mmlu": -0.032},
            {"model": "shadowed", "backend": "hf", "verdict_class": "no_reference",
             "reformat_gap": 0.6, "gap_ci_low": 0.5, "gap_ci_high": 0.7, "acc_mmlu": None},
        ]
    )  # fmt: skip
    shown = _display(frame)
    text = shown.to_string()
    assert "nan" not in text.lower()
    assert shown.loc[0, "reformat gap (pts)"] == "n/a"
    assert shown.loc[1, "mmlu original (%)"] == "n/a"
    assert shown.loc[1, "95% CI"] == "[+50.0, +70.0]"


def test_scatter_legend_keeps_the_distinguishing_end_of_long_names() -> None:
    from shadow_suite.report.svg import clip_start

    names = ["/root/.cache/shadow-suite/example/demo/models/base",
             "/root/.cache/shadow-suite/example/demo/models/benchmark-aligned"]  # fmt: skip
    clipped = [clip_start(n, 28) for n in names]
    assert clipped[0].endswith("models/base") and clipped[1].endswith("benchmark-aligned")
    assert all(len(c) == 28 for c in clipped)
    assert clip_start("short", 28) == "short"


def test_a_pair_without_a_number_says_why_in_words() -> None:
    from shadow_suite.gap.pairwise import GapPair
    from shadow_suite.report.words import pair_note

    no_rows = GapPair("a", "b", [], None, None, None, None, 0)
    assert pair_note(no_rows) == "no row passes the gates for both models"
    refused = GapPair("a", "b", [], None, None, None, None, 0, "not the same items")
    assert pair_note(refused) == "not the same items"
