"""GSM8K variants: the exact evaluator, renumbering, distractors and the answer format
(read back with lm-eval's own regex filter and exact-match metric)."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
from variants_helpers import assert_renumbered, load_docs

from shadow_suite.taskpack.variants import apply_variant
from shadow_suite.taskpack.variants.arithmetic import ArithmeticSyntaxError, evaluate, format_number
from shadow_suite.taskpack.variants.gsm8k import (
    ANSWER_FORMAT_FILTER_REGEX,
    ANSWER_FORMAT_PREFIX,
    ANSWER_FORMAT_TARGET_IGNORE,
    distractor,
)
from shadow_suite.taskpack.variants.renumber import implied_values, renumber


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("16-3-4", Fraction(9)),
        ("2*(3+4)", Fraction(14)),
        ("12/60", Fraction(1, 5)),
        (".6*.5", Fraction(3, 10)),
        ("-3+5", Fraction(2)),
        ("10/4*2", Fraction(5)),
        ("7 - 2 * 3", Fraction(1)),
        ("1/3+1/3+1/3", Fraction(1)),
    ],
)
def test_evaluate_is_exact(expression: str, value: Fraction) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression", ["__import__('os')", "2**3", "3+", "(1+2", "1+2)", "x*2", "2^3", "1;2"]
)
def test_evaluate_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ArithmeticSyntaxError):
        evaluate(expression)


def test_format_number() -> None:
    assert format_number(Fraction(9)) == "9"
    assert format_number(Fraction(1, 5)) == "0.2"
    assert format_number(Fraction(-5, 4)) == "-1.25"
    assert format_number(Fraction(1, 3)) is None


def _doc(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer}


JANET = _doc(
    "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' "
    "market daily for $2 per fresh duck egg. How much in dollars does she make every day at "
    "the farmers' market?",
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 "
    "every day at the farmer’s market.\n#### 18",
)


@pytest.mark.parametrize("seed", range(25))
def test_renumbered_recomputes_the_answer_from_the_new_inputs(seed: int) -> None:
    new = renumber(dict(JANET), random.Random(seed))
    assert new is not None
    eggs, price = (int(n) for n in re.findall(r"\d+", new["question"]))
    # "three" and "four" are words: they stay, as do their 3 and 4 in the solution
    assert "three" in new["question"] and "four" in new["question"]
    assert new["answer"].endswith(f"#### {(eggs - 3 - 4) * price}")
    assert f"<<{eggs}-3-4={eggs - 7}>>{eggs - 7} duck eggs" in new["answer"]
    assert_renumbered(JANET, new)


def test_renumbered_keeps_commas_and_decimals_in_gsm8k_style() -> None:
    doc = _doc(
        "A shop sells 1,200 pens in a week and 300 more the next week. How many pens?",
        "Total is 1,200 + 300 = <<1200+300=1500>>1,500 pens.\n#### 1,500",
    )
    new = renumber(dict(doc), random.Random(1))
    assert new is not None
    total = new["answer"].rsplit("#### ", 1)[1]
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", total)
    assert_renumbered(doc, new)


@pytest.mark.parametrize(
    ("question", "answer", "why"),
    [
        (
            "Tom has 20 apples and gives away 20%. How many are left?",
            "He gives 20*.2=<<20*.2=4>>4.\nHe keeps 20-4=<<20-4=16>>16.\n#### 16",
            "the same value is an input twice over (20 apples, 20%) and .2 has no origin",
        ),
        (
            "Ann has 5 cats and 3 dogs. How many pets?",
            "5+3=<<5+3=9>>9\n#### 9",
            "the annotation does not check out",
        ),
        (
            "Ann has 5 cats and 3 dogs. How many legs?",
            "Cats: 5*4=<<5*4=20>>20. Dogs: 3*4=<<3*4=12>>12. Total 20+12=32\n#### 32",
            "the text computes the final sum without an annotation",
        ),
        (
            "Ann reads 4 pages on Monday and twice as many on Tuesday. Then 2 more. Total?",
            "4*2=<<4*2=8>>8\n4+8+2=<<4+8+2=14>>14\n#### 14",
            "2 is both an input and the 2 of 'twice'",
        ),
        (
            "Bob had 9 coins and found 9 more. He then lost 7. How many now?",
            "9+9=<<9+9=18>>18\n18-7=<<18-7=11>>11\n#### 11",
            "fine: the one value 9 maps to one new value",
        ),
    ],
)
def test_renumbered_skips_untraceable_items(question: str, answer: str, why: str) -> None:
    new = renumber(_doc(question, answer), random.Random(0))
    if why.startswith("fine"):
        assert new is not None
        a = int(re.findall(r"\d+", new["question"])[0])
        b = int(re.findall(r"\d+", new["question"])[2])
        assert new["answer"].endswith(f"#### {2 * a - b}")
    else:
        assert new is None, why


def test_renumbered_never_goes_negative_or_fractional() -> None:
    doc = _doc(
        "A class of 30 students splits into groups of 5. Then 4 groups leave. How many groups remain?",
        "30/5=<<30/5=6>>6 groups\n6-4=<<6-4=2>>2 remain\n#### 2",
    )
    for seed in range(40):
        new = renumber(dict(doc), random.Random(seed))
        if new is None:
            continue
        students, size, leave = (int(n) for n in re.findall(r"\d+", new["question"]))
        assert students % size == 0 and students // size - leave >= 0
        assert_renumbered(doc, new)


def test_implied_values() -> None:
    assert {Fraction(2), Fraction(1, 2), Fraction(60), Fraction(12)} <= implied_values(
        "Half an hour is 30 minutes; then she bought a dozen"
    )
    assert Fraction(100) in implied_values("a 20% discount")


def test_renumbered_verified_on_every_real_item_it_applies_to(benchmark_data: Path) -> None:
    docs = load_docs(str(benchmark_data), "gsm8k")
    applied = 0
    for doc in docs:
        new = apply_variant("gsm8k", "renumbered", doc, doc["shadow_id"], 1234)
        if new is not None:
            assert_renumbered(doc, new)
            applied += 1
    assert applied >= 0.3 * len(docs)


def test_distractor_goes_before_the_question_sentence() -> None:
    doc = _doc(
        "Mr. Lee buys 3 boxes of 12 eggs. He uses 5 eggs. How many eggs are left?",
        "3*12=<<3*12=36>>36\n36-5=<<36-5=31>>31\n#### 31",
    )
    for seed in range(20):
        new = distractor(dict(doc), random.Random(seed))
        assert new is not None and new["answer"] == doc["answer"]
        head, tail = new["question"].rsplit(". ", 1)
        assert tail == "How many eggs are left?"
        assert head.startswith("Mr. Lee buys 3 boxes of 12 eggs. He uses 5 eggs. ")
        inserted = head.removeprefix("Mr. Lee buys 3 boxes of 12 eggs. He uses 5 eggs. ")
        number = int(re.findall(r"\d+", inserted)[0])
        assert number not in (3, 12, 5, 36, 31)
    assert distractor(_doc("How many is 3 plus 4?", "<<3+4=7>>7\n#### 7"), random.Random(0)) is None


def test_answer_format_is_read_by_lm_eval_filter_and_metric() -> None:
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    new = apply_variant("gsm8k", "answer_format", JANET, "gsm8k/test/0", 0)
    assert new is not None
    assert new["answer"].endswith("\nThe final answer is 18.")
    assert "#### " not in new["answer"] and "The final answer is N." in new["question"]
    responses = [
        ["She sells 9 eggs for $2 each, so 18 dollars.\nThe final answer is 18."],
        ["The final answer is $18.\n\nQuestion: next"],
        ["The final answer is 1,8."],
        ["#### 18"],
    ]
    regex = RegexFilter(regex_pattern=ANSWER_FORMAT_FILTER_REGEX)
    predictions = [p[0] for p in regex.apply(responses, [new] * len(responses))]
    ignore = [",", "\\$", ANSWER_FORMAT_TARGET_IGNORE, "\\.$"]
    scores = [
        exact_match_hf_evaluate(
            predictions=[p], references=[new["answer"]], regexes_to_ignore=ignore, ignore_case=True
        )["exact_match"]
        for p in predictions
    ]
    # "1,8" reads as 18 once commas are ignored, as in lm-eval's own gsm8k; "$18" fails the
    # strict filter here as "#### $18" fails orig's (the same rule behind another prefix)
    assert scores == [1.0, 0.0, 1.0, 0.0]
    orig = RegexFilter(regex_pattern=r"#### (\-?[0-9\.\,]+)")
    assert orig.apply([["#### $18"]], [new])[0][0] == "[invalid]"
    assert ANSWER_FORMAT_FILTER_REGEX.removeprefix(ANSWER_FORMAT_PREFIX) == r"(\-?[0-9\.\,]+)"


def test_renumbered_keeps_the_order_of_the_question_numbers() -> None:
    doc = _doc(
        "She drove 100 miles and then put in 4 gallons to fill the tank. The tank holds 12 "
        "gallons. How many miles can she drive on a full tank?",
        "100/4=<<100/4=25>>25 miles per gallon\n25*12=<<25*12=300>>300 miles\n#### 300",
    )
    for seed in range(30):
        new = renumber(dict(doc), random.Random(seed))
        if new is not None:
            miles, put_in, holds = (int(n) for n in re.findall(r"\d+", new["question"]))
            assert put_in < holds < miles
            assert_renumbered(doc, new)


def test_renumbered_leaves_ranges_and_skips_spelled_out_inputs() -> None:
    ranges = _doc(
        "A school has grades 4 - 7 with 10 students chosen per grade. How many students?",
        "There are 4 grades x 10 = <<4*10=40>>40 students\n#### 40",
    )
    new = renumber(dict(ranges), random.Random(0))
    assert new is not None and "grades 4 - 7" in new["question"]  # a range stays as it is
    per_grade = int(re.findall(r"\d+", new["question"])[2])
    assert per_grade != 10 and new["answer"].endswith(f"#### {4 * per_grade}")
    spelled = _doc(
        "Mason rides 8 miles per hour for 4 hours. How far does he ride?",
        "In four hours he rides 8*4=<<8*4=32>>32 miles.\n#### 32",
    )
    assert renumber(dict(spelled), random.Random(0)) is None


def test_task_yaml_uses_the_strict_rule_of_orig() -> None:
    """The YAML files hold the filters lm-eval runs: answer_format's strict filter is the
    constant above, and orig's strict filter reads the same number pattern."""
    from pathlib import Path

    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    import shadow_suite.taskpack

    folder = Path(shadow_suite.taskpack.__file__).parent / "tasks" / "shadow_suite" / "gsm8k"

    def strict(name: str) -> str:
        config = yaml.load((folder / name).read_text(encoding="utf-8"), Loader=_Loader)
        (entry,) = [f for f in config["filter_list"] if f["name"] == "strict-match"]
        return str(entry["filter"][0]["regex_pattern"])

    assert strict("shadow_gsm8k_answer_format.yaml") == ANSWER_FORMAT_FILTER_REGEX
    orig = strict("shadow_gsm8k_orig.yaml")
    assert orig.removeprefix("#### ") == ANSWER_FORMAT_FILTER_REGEX.removeprefix(
        ANSWER_FORMAT_PREFIX
    )
