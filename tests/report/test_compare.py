

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
