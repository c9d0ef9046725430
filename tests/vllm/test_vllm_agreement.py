"""The agreement oracle of the vLLM tests, on hand-made items."""

from __future__ import annotations

import pytest
from vllm_agreement import Item, argmax, compare, parse_row, top_gap

TOL = 1e-3


def mc(lls: tuple[float, ...], conts: tuple[str, ...] = (" A", " B", " C")) -> Item:
    requests = tuple(("ctx", c) for c in conts[: len(lls)])
    return Item("t", 0, "none", requests, lls, None, None)


def gen(text: str, answer: str) -> Item:
    return Item("g", 0, "strict-match", (("ctx", "{}"),), None, text, answer)


def test_identical_runs_agree() -> None:
    result = compare({("t", 0, "none"): mc((-1.0, -2.0, -3.0))},
                     {("t", 0, "none"): mc((-1.0, -2.0, -3.0))}, TOL)  # fmt: skip
    assert result.ok and result.multiple_choice == 1 and result.max_ll_diff == 0.0


def test_small_differences_within_tolerance_agree() -> None:
    result = compare({("t", 0, "none"): mc((-1.0, -2.0, -3.0))},
                     {("t", 0, "none"): mc((-1.0002, -2.0001, -3.0))}, TOL)  # fmt: skip
    assert result.ok
    assert abs(result.max_ll_diff - 2e-4) < 1e-9


def test_a_flip_on_a_near_tie_is_accepted_and_counted() -> None:
    result = compare({("t", 0, "none"): mc((-1.0000, -1.0004, -3.0))},
                     {("t", 0, "none"): mc((-1.0004, -1.0001, -3.0))}, TOL)  # fmt: skip
    assert result.ok
    assert result.near_ties >= 1


def test_a_flip_beyond_the_tolerance_is_a_problem() -> None:
    result = compare({("t", 0, "none"): mc((-1.0, -2.0, -3.0))},
                     {("t", 0, "none"): mc((-2.5, -2.0, -3.0))}, TOL)  # fmt: skip
    assert not result.ok
    assert any("differ by" in p for p in result.problems)
    assert any("argmax" in p for p in result.problems)


def test_length_normalised_choice_is_checked_too() -> None:
    # Raw argmax agrees (choice 0) but per character the runs pick different choices.
    long_short = (" a long answer", " b")
    ref = mc((-10.0, -10.5), long_short)
    oth = mc((-10.0, -10.8), long_short)
    # -10/14 = -0.714 vs -10.5/2 = -5.25: both pick 0 per char; a large raw change (0.3) fails.
    result = compare({("t", 0, "none"): ref}, {("t", 0, "none"): oth}, TOL)
    assert not result.ok and "differ by" in result.problems[0]


def test_generation_items_must_match_exactly() -> None:
    key = ("g", 0, "strict-match")
    assert compare({key: gen("x #### 4", "4")}, {key: gen("x #### 4", "4")}, TOL).ok
    result = compare({key: gen("x #### 4", "4")}, {key: gen("y #### 5", "5")}, TOL)
    assert len(result.problems) == 2
    # Generation cut inside a multi-byte character: Hugging Face shows U+FFFD, vLLM nothing.
    assert compare({key: gen("x \ufffd", "4")}, {key: gen("x ", "4")}, TOL).ok


def test_missing_items_and_other_prompts_are_problems() -> None:
    a = {("t", 0, "none"): mc((-1.0, -2.0)), ("t", 1, "none"): mc((-1.0, -2.0))}
    b = {("t", 0, "none"): mc((-1.0, -2.0), (" X", " Y"))}
    problems = compare(a, b, TOL).problems
    assert any("missing from the other run" in p for p in problems)
    assert any("different prompts" in p for p in problems)


def test_parse_row_reads_lm_eval_samples() -> None:
    mc_row = {"doc_id": 3, "filter": "none",
              "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": " A"},
                            "gen_args_1": {"arg_0": "Q", "arg_1": " B"}},
              "resps": [[["-1.5", "False"]], [["-0.5", "True"]]],
              "filtered_resps": [["-1.5", "False"], ["-0.5", "True"]]}  # fmt: skip
    item = parse_row("shadow_x_orig", mc_row)
    assert item.loglikelihoods == (-1.5, -0.5) and item.doc_id == 3
    gen_row = {"doc_id": 0, "filter": "strict-match",
               "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": {"until": ["Q:"]}}},
               "resps": [["so #### 7"]], "filtered_resps": ["7"]}  # fmt: skip
    item = parse_row("shadow_gsm8k_orig", gen_row)
    assert item.generation == "so #### 7" and item.answer == "7" and item.loglikelihoods is None


def test_detokenization_options_are_left_out_of_the_compared_requests() -> None:
    def row(gen_kwargs: dict[str, object]) -> dict[str, object]:
        return {"doc_id": 2, "filter": "strict-match",
                "arguments": {"gen_args_0": {"arg_0": "Q", "arg_1": gen_kwargs}},
                "resps": [["so #### 7"]], "filtered_resps": ["7"]}  # fmt: skip

    hf = parse_row("g", row({"until": ["Q:"], "max_gen_toks": 32}))
    engine = parse_row("g", row({"until": ["Q:"], "max_gen_toks": 32, "skip_special_tokens": True,
                                 "spaces_between_special_tokens": False}))  # fmt: skip
    key = ("g", 2, "strict-match")
    result = compare({key: hf}, {key: engine}, TOL)
    assert result.ok and result.generation == 1
    # Any other generation argument is still part of the request.
    longer = parse_row("g", row({"until": ["Q:"], "max_gen_toks": 64}))
    assert "different prompts" in compare({key: hf}, {key: longer}, TOL).problems[0]
    # And the texts are still compared: "<unk>" kept by one run only is a difference.
    unk = Item("g", 2, "strict-match", hf.requests, None, "so<unk> #### 7", "7")
    assert "generations differ" in compare({key: hf}, {key: unk}, TOL).problems[0]


def test_argmax_and_top_gap() -> None:
    assert argmax([-3.0, -1.0, -2.0]) == 1
    assert top_gap([-3.0, -1.0, -2.0]) == 1.0
    assert top_gap([-1.0]) == float("inf")


def test_text_items_of_the_familiarity_tasks_are_compared_per_byte() -> None:
    text = "Question: Q?\nAnswer: A" * 4  # 88 bytes: 11 x the tolerance allowed
    row = {"doc_id": 1, "filter": "none", "arguments": {"gen_args_0": {"arg_0": text}},
           "resps": [["-120.5"]], "filtered_resps": ["-120.5"], "bits_per_byte": [-120.5, 88]}  # fmt: skip
    item = parse_row("shadow_x_familiarity_item", row)
    assert item.loglikelihoods == (-120.5,) and item.text_bytes == 88
    close = Item(item.task, 1, "none", item.requests, (-120.5 + 0.01,), None, None, 88)
    far = Item(item.task, 1, "none", item.requests, (-120.5 + 0.02,), None, None, 88)
    key = (item.task, 1, "none")
    result = compare({key: item}, {key: close}, TOL)
    assert result.ok and result.texts == 1 and result.multiple_choice == 0
    assert result.max_text_diff_per_byte == pytest.approx(0.01 / 88)
    assert "text log-likelihoods differ" in compare({key: item}, {key: far}, TOL).problems[0]
