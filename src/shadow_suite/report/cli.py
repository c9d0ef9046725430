"""``shadow-suite report`` and ``shadow-suite compare``: the report card commands."""

from __future__ import annotations

import argparse

from shadow_suite.gap.defaults import DEFAULT_N_BOOT, DEFAULT_SEED


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report",
        help="report card (JSON, HTML, Markdown) from lm-eval output and optional spectra",
        description="Read lm-eval output folders of one model (written with --output_path and "
        "--log_samples; several runs are merged), pair every variant item with its original, "
        "and write card.json, card.html and card.md.",
    )
    report.add_argument(
        "results", nargs="+", metavar="RESULTS_DIR", help="lm-eval output folder(s)"
    )
    report.add_argument(
        "--spectra", metavar="FILE", help="spectra.json (or its folder) from `shadow-suite spectra`"
    )
    report.add_argument(
        "--base-spectra",
        metavar="FILE",
        help="the base model's own spectra.json, drawn dashed next to the model's effective ranks",
    )
    report.add_argument("--base", metavar="NAME", help="name of the base model, for the card")
    report.add_argument("--out", metavar="DIR", required=True, help="output folder")
    report.add_argument(
        "--n-boot",
        type=int,
        default=DEFAULT_N_BOOT,
        help=f"bootstrap resamples (default {DEFAULT_N_BOOT})",
    )
    report.add_argument("--seed", type=int, default=DEFAULT_SEED, help="bootstrap seed")
    report.set_defaults(func=run_report)

    compare = subparsers.add_parser(
        "compare",
        help="several report cards side by side (table + benchmark-vs-OOD scatter)",
        description="Read card.json files (or folders holding one) and write compare.html, "
        "compare.md and compare.csv.",
    )
    compare.add_argument("cards", nargs="+", metavar="CARD", help="card.json or its folder")
    compare.add_argument("--out", metavar="DIR", required=True, help="output folder")
    compare.set_defaults(func=run_compare)


def run_report(args: argparse.Namespace) -> int:
    from shadow_suite.errors import ShadowSuiteError
    from shadow_suite.report.card import build_card, write_card

    if args.n_boot < 100:
        raise ShadowSuiteError(f"--n-boot {args.n_boot}: use at least 100 resamples")
    card = build_card(
        args.results,
        spectra=args.spectra,
        base_spectra=args.base_spectra,
        base_model=args.base,
        n_boot=args.n_boot,
        seed=args.seed,
    )
    paths = write_card(card, args.out)
    print(card.gap.headline.verdict)
    for path in (paths.json, paths.html, paths.markdown):
        print(path)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from shadow_suite.report.compare import write_comparison

    paths = write_comparison(args.cards, args.out)
    for path in (paths.html, paths.markdown, paths.csv):
        print(path)
    return 0
