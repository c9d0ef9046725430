def test_missing_numbers_show_as_na_not_nan() -> None:
    import pandas as pd

    from shadow_suite.report.compare import _display

    frame = pd.DataFrame(
        [
            {"model": "at-chance", "backend": "hf", "benchmark_score": None, "ood_score": None,
             "shadow_gap": None, "gap_ci_low": None, "gap_ci_high": None,
             "relative_gap": None, "significant": False, "gap_mmlu": -0.032},
            {"model": "shadowed", "backend": "hf", "benchmark_score": 1.0, "ood_score": 0.4,
             "shadow_gap": 0.6, "gap_ci_low": 0.5, "gap_ci_high": 0.7,
             "relative_gap": 0.6, "significant": True, "gap_mmlu": None},
        ]
    )  # fmt: skip
    shown = _display(frame)
    text = shown.to_string()
    assert "nan" not in text.lower()
    assert shown.loc[0, "shadow gap (pts)"] == "n/a"
    assert shown.loc[0, "gap mmlu"] == "-3.2"
    assert shown.loc[1, "95% CI"] == "[+50.0, +70.0]"


def test_scatter_legend_keeps_the_distinguishing_end_of_long_names() -> None:
    from shadow_suite.report.svg import clip_start

    names = ["/root/.cache/shadow-suite/example/demo/models/base",
             "/root/.cache/shadow-suite/example/demo/models/benchmark-aligned"]  # fmt: skip
    clipped = [clip_start(n, 28) for n in names]
    assert clipped[0].endswith("models/base") and clipped[1].endswith("benchmark-aligned")
    assert all(len(c) == 28 for c in clipped)
    assert clip_start("short", 28) == "short"
