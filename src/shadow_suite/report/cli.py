"""``shadow-suite report`` and ``shadow-suite compare``: the report card commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from shadow_suite.gap.defaults import DEFAULT_BOOTSTRAP_SEED, DEFAULT_N_BOOT
from shadow_suite.outputs import check_out_apart
from shadow_suite.report.pdf import DEFAULT_PAPER, PAPERS

MAX_N_BOOT = 1_000_000
"""More resamples than this change no digit a card shows, and cost memory by the gigabyte."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    report.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="DIR",
        help="a trusted model evaluated on the same items (its card folder, `shadow-suite run` "
        "folder or lm-eval output folder; repeatable): the verdict compares the gaps",
    )
    report.add_argument("--out", metavar="DIR", required=True, help="output folder")
    report.add_argument(
        "--n-boot",
        type=int,
        default=DEFAULT_N_BOOT,
        help=f"bootstrap resamples (default {DEFAULT_N_BOOT})",
    )
    report.add_argument("--seed", type=int, default=DEFAULT_BOOTSTRAP_SEED, help="bootstrap seed")
    add_card_options(report)
    report.set_defaults(func=run_report)

    compare = subparsers.add_parser(
        "compare",
        help="several report cards side by side (table, per-benchmark scatters, paired tests)",
        description="Read card.json files (or folders holding one) and write compare.html, "
        "compare.md, compare.csv and compare_pairs.csv (paired tests between the models); "
        "with --pdf, compare.pdf.",
    )
    compare.add_argument("cards", nargs="+", metavar="CARD", help="card.json or its folder")
    compare.add_argument("--out", metavar="DIR", required=True, help="output folder")
    compare.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="CARD",
        help="a trusted model's card (or its folder): drawn as a reference with the band of "
        "the references' gaps on the scatters, and tested against every model (repeatable)",
    )
    compare.add_argument(
        "--spectra",
        action="append",
        default=[],
        metavar="DIR",
        help="one per card, in order: its `shadow-suite spectra MODEL --base ANCESTOR` folder "
        "(one ancestor for all); adds the parameter footprints to the page and writes "
        "footprint.html/.csv/.parquet",
    )
    compare.add_argument(
        "--ancestor-spectra",
        metavar="DIR",
        help="the ancestor's own spectra (effective-rank pairs)",
    )
    add_pdf_options(compare, "compare")
    compare.set_defaults(func=run_compare)

    footprint = subparsers.add_parser(
        "footprint",
        help="per-layer parameter footprints of several models against one ancestor",
        description="Read the spectra folders of several models, each written by `shadow-suite "
        "spectra MODEL --base ANCESTOR` against the same ancestor, and draw per module kind "
        "and layer: relative change, correlation with the base, update effective rank and the "
        "change of effective rank between two models. Writes footprint.html, footprint.csv "
        "and footprint.parquet.",
    )
    footprint.add_argument(
        "spectra", nargs="+", metavar="SPECTRA", help="spectra folder or spectra.json per model"
    )
    _footprint_options(footprint)
    footprint.add_argument("--out", metavar="DIR", required=True, help="output folder")
    footprint.set_defaults(func=run_footprint)


def _footprint_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    from shadow_suite.report.footprint import DEFAULT_KINDS, LAYER_KINDS

    parser.add_argument(
        "--label",
        action="append",
        metavar="NAME",
        help="name of each model in the figures, in order (default: its folder name)",
    )
    parser.add_argument(
        "--base-spectra",
        metavar="SPECTRA",
        help="the ancestor's own spectra, so that it takes part in effective-rank pairs",
    )
    parser.add_argument(
        "--kinds",
        default=",".join(DEFAULT_KINDS),
        help=f"module kinds, comma-separated, of {', '.join(LAYER_KINDS)} "
        "(default: attention q/k/v/o and MLP gate/up/down)",
    )
    parser.add_argument(
        "--pair",
        action="append",
        metavar="A:B",
        help="draw the change of effective rank B - A for these labels (repeatable; "
        "default: every two models)",
    )


def add_card_options(parser: argparse.ArgumentParser) -> None:
    """--name, --pdf and --paper: the card a reviewer hands on (``report`` and ``run``)."""
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="the model's name in the card's title (default: the hub id, or a local folder's "
        "own name, from lm-eval's model_args)",
    )
    add_pdf_options(parser, "card")


def add_pdf_options(parser: argparse.ArgumentParser, page: str) -> None:
    """--pdf and --paper: ``page``.pdf printed beside ``page``.html (``compare`` too)."""
    parser.add_argument(
        "--pdf",
        action="store_true",
        help=f"also write {page}.pdf, {page}.html printed by headless Chromium (needs chromium)",
    )
    parser.add_argument(
        "--paper",
        choices=PAPERS,
        default=DEFAULT_PAPER,
        help=f"paper size of {page}.pdf (default {DEFAULT_PAPER})",
    )


def check_card_options(args: argparse.Namespace) -> str | None:
    """The checks of :func:`add_card_options`' flags, before any work (a missing Chromium is
    one line then, not after an evaluation); the browser that will print the PDF, or None."""
    from shadow_suite.errors import ShadowSuiteError

    name = getattr(args, "name", None)
    if name is not None and not name.strip():
        raise ShadowSuiteError("--name: give a non-empty name")
    if not args.pdf:
        return None
    from shadow_suite.report.pdf import find_browser

    return find_browser()


def print_pdf(html: Path, args: argparse.Namespace, browser: str | None) -> None:
    """Print card.pdf beside ``html`` when --pdf asked for it (``browser`` from the check)."""
    if browser is not None:
        from shadow_suite.report.pdf import write_pdf

        print(write_pdf(html, paper=args.paper, browser=browser))


def run_report(args: argparse.Namespace) -> int:
    from shadow_suite.errors import ShadowSuiteError
    from shadow_suite.report.card import build_card, write_card
    from shadow_suite.report.memorization import memorization_line
    from shadow_suite.report.words import verdict_printout

    if args.n_boot < 100:
        raise ShadowSuiteError(f"--n-boot {args.n_boot}: use at least 100 resamples")
    if args.n_boot > MAX_N_BOOT:
        # the bootstrap holds n_boot x items draws in memory: 1e11 asked for 1.46 TiB
        raise ShadowSuiteError(f"--n-boot {args.n_boot}: use at most {MAX_N_BOOT:,} resamples")
    if not 0 <= args.seed < 2**63:
        raise ShadowSuiteError(f"--seed {args.seed}: give a whole number from 0 to 2**63 - 1")
    check_out_apart(
        args.out,
        [*(("RESULTS_DIR", r) for r in args.results), *(("--reference", r) for r in args.reference),
         ("--spectra", args.spectra), ("--base-spectra", args.base_spectra)],
    )  # fmt: skip
    browser = check_card_options(args)
    card = build_card(
        args.results,
        spectra=args.spectra,
        base_spectra=args.base_spectra,
        base_model=args.base,
        n_boot=args.n_boot,
        seed=args.seed,
        references=args.reference,
        name=args.name,
    )
    paths = write_card(card, args.out)
    print(verdict_printout(card))
    if (memorization := memorization_line(card)) is not None:
        print(f"Memorization. {memorization}")
    for path in (paths.json, paths.html, paths.markdown):
        print(path)
    print_pdf(paths.html, args, browser)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from shadow_suite.report.compare import write_comparison

    check_out_apart(
        args.out,
        [*(("CARD", c) for c in args.cards), *(("--reference", r) for r in args.reference),
         *(("--spectra", x) for x in args.spectra), ("--ancestor-spectra", args.ancestor_spectra)],
    )  # fmt: skip
    browser = check_card_options(args)
    paths = write_comparison(
        args.cards,
        args.out,
        references=args.reference,
        spectra=args.spectra,
        ancestor_spectra=args.ancestor_spectra,
    )
    for path in (paths.html, paths.markdown, paths.csv, paths.pairs_csv):
        print(path)
    print_pdf(paths.html, args, browser)
    return 0


def _footprint_args(args: argparse.Namespace) -> dict[str, Any]:
    from shadow_suite.report.footprint import parse_pairs

    return {
        "labels": args.label,
        "base_spectra": args.base_spectra,
        "kinds": tuple(k.strip() for k in args.kinds.split(",") if k.strip()),
        "pairs": parse_pairs(args.pair),
    }


def run_footprint(args: argparse.Namespace) -> int:
    from shadow_suite.report.footprint import write_footprint

    check_out_apart(
        args.out,
        [*(("SPECTRA", x) for x in args.spectra), ("--base-spectra", args.base_spectra)],
    )

    paths = write_footprint(args.spectra, args.out, **_footprint_args(args))
    for path in (paths.html, paths.csv, paths.parquet):
        if path is not None:
            print(path)
    return 0
