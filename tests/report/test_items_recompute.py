"""Every number of a card's gap rows comes back from ``items.parquet`` alone.

The recomputation here is written out with plain pandas and scipy, on purpose independent of
``shadow_suite.gap``: pair each variant item with its baseline form by ``shadow_id``, count,
test (exact McNemar = two-sided binomial test of the discordant pairs), adjust (Holm across
every row of the card), and redo the degenerate gate from the ``chosen`` column. It runs on
the shipped example card (a real lm-eval run of SmolLM2-135M) and on a synthetic card with
real gaps, so the Holm adjustment has something to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import make_run
from scipy import stats

from shadow_suite.report.card import build_card, write_card

EXAMPLE = Path(__file__).resolve().parents[2] / "reports" / "example"


def _holm(p: list[float]) -> list[float]:
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def _recompute(items: pd.DataFrame, rows: list[dict]) -> list[dict]:
    got = []
    for row in rows:
        bench = items[items["benchmark"] == row["benchmark"]]
        base = bench[bench["variant"] == row["baseline"]].set_index("shadow_id")
        var = bench[bench["variant"] == row["variant"]].set_index("shadow_id")
        ids = base.index.intersection(var.index)
        o, v = base.loc[ids, "correct"].to_numpy(), var.loc[ids, "correct"].to_numpy()
        b, c = int(((o == 1) & (v == 0)).sum()), int(((o == 0) & (v == 1)).sum())
        generation = bool((var.loc[ids, "n_options"] == 0).all())  # GSM8K: no options
        known = generation or all((form.loc[ids, "chosen"] >= 0).all() for form in (base, var))
        shares = [
            form.loc[ids, "chosen"].value_counts(normalize=True).max() for form in (base, var)
        ]
        got.append(
            {
                "n_paired": len(ids),
                "acc_orig": o.mean(),
                "acc_variant": v.mean(),
                "gap": o.mean() - v.mean(),
                "orig_only": b,
                "variant_only": c,
                "p_mcnemar": 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue,
                # an unknown chosen option (an older run) is checked first: "no_answers"
                "gate": ""
                if generation
                else "no_answers"
                if not known
                else "degenerate"
                if max(shares) > 0.70
                else "",
            }
        )
    for entry, p_holm in zip(got, _holm([g["p_mcnemar"] for g in got]), strict=True):
        entry["p_holm"] = p_holm
    return got


def _check(card_json: Path, items_path: Path) -> int:
    card = json.loads(card_json.read_text(encoding="utf-8"))
    items = pd.read_parquet(items_path)
    rows = [
        {**v, "benchmark": b["benchmark"]} for b in card["gap"]["benchmarks"] for v in b["variants"]
    ]
    assert rows, "the card has no gap rows"
    for row, mine in zip(rows, _recompute(items, rows), strict=True):
        where = f"{row['benchmark']}/{row['variant']} vs {row['baseline']}"
        for key in ("n_paired", "orig_only", "variant_only"):
            assert row[key] == mine[key], (where, key)
        for key in ("acc_orig", "acc_variant", "gap", "p_mcnemar", "p_holm"):
            assert row[key] == pytest.approx(mine[key], abs=1e-12), (where, key)
        if mine["gate"]:
            assert row["gate"] == mine["gate"], where
        else:
            assert row["gate"] in ("ok", "below_floor", "unpaired"), where
    # the benchmark score (orig accuracy over every scored original item)
    for bench in card["gap"]["benchmarks"]:
        orig = items[(items["benchmark"] == bench["benchmark"]) & (items["variant"] == "orig")]
        assert bench["n_orig"] == len(orig)
        assert bench["acc_orig"] == pytest.approx(orig["correct"].mean(), abs=1e-12)
    return len(rows)


SHIPPED = sorted((EXAMPLE.parent).rglob("card.json"))


@pytest.mark.parametrize("card_json", SHIPPED, ids=[str(p.parent.name) for p in SHIPPED])
def test_every_shipped_card_recomputes_from_its_items(card_json: Path) -> None:
    """reports/: the SmolLM2 example and the demo's cards, each with its items.parquet."""
    assert (card_json.parent / "items.parquet").is_file(), f"{card_json.parent} lacks items"
    assert _check(card_json, card_json.parent / "items.parquet") >= 5


def test_synthetic_card_with_real_gaps_recomputes_from_its_items(tmp_path: Path) -> None:
    run = make_run(tmp_path / "eval", "org/gappy", drop=0.3, seed=4)
    paths = write_card(build_card([run], n_boot=200, seed=1), tmp_path / "card")
    card_json = Path(paths.json)
    n = _check(card_json, card_json.parent / "items.parquet")
    card = json.loads(card_json.read_text(encoding="utf-8"))
    p_holm = [v["p_holm"] for b in card["gap"]["benchmarks"] for v in b["variants"]]
    assert n >= 4 and np.min(p_holm) < 0.05  # Holm was exercised on real gaps
