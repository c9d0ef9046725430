"""The README's commands as written: every ``shadow-suite`` command parses with the real
parser, every ``lm_eval`` evaluation with lm-eval's own and writes what ``report`` reads, the
short report and compare commands run offline on a synthetic lm-eval folder, and the numbers
the help quotes are the README's, from one source each."""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from shadow_suite.cli import build_parser, main
from shadow_suite.run import BENCHMARK_TITLES, CPU_BATCH_SIZE, PRESETS
from shadow_suite.spectral.engine import CPU_WORKERS_MAX, GPU_WORKERS
from shadow_suite.spectral.linalg import gram_accuracy

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
sys.path.insert(0, str(REPO / "tests" / "report"))


def readme_commands() -> list[list[str]]:
    """Every command of the README's bash blocks, as argv lists: continuations joined,
    comments dropped, ``&&`` chains split, variables a block assigns expanded."""
    out: list[list[str]] = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        variables: dict[str, str] = {}
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if len(words) == 1 and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                name, _, value = words[0].partition("=")
                variables[name] = value
                continue
            expanded: list[str] = []
            for word in words:
                expanded += shlex.split(variables[word[1:]]) if word[1:] in variables else [word]
            command: list[str] = []
            for word in [*expanded, "&&"]:
                if word in ("&&", "|"):
                    if command:
                        out.append(command)
                    command = []
                else:
                    command.append(word)
    return out


def _program(argv: list[str]) -> tuple[str, list[str]]:
    """The program and its arguments, past any VAR=value prefixes."""
    rest = list(argv)
    while rest and re.fullmatch(r"[A-Z_]+=.*", rest[0]):
        rest.pop(0)
    return (Path(rest[0]).name, rest[1:]) if rest else ("", [])


COMMANDS = readme_commands()
OURS = [args for program, args in map(_program, COMMANDS) if program == "shadow-suite"]
LM_EVAL = [args for program, args in map(_program, COMMANDS) if program == "lm_eval"]


def test_the_readme_has_commands_of_both_tools() -> None:
    assert len(OURS) >= 10 and len(LM_EVAL) >= 6


@pytest.mark.parametrize("args", OURS, ids=[" ".join(a[:3]) for a in OURS])
def test_every_shadow_suite_command_parses(args: list[str]) -> None:
    parsed = build_parser().parse_args(args)  # argparse exits (SystemExit) on a bad flag
    assert callable(parsed.func)


def _lm_eval_parser() -> argparse.ArgumentParser:
    from lm_eval._cli import HarnessCLI

    parser: argparse.ArgumentParser = HarnessCLI()._parser
    return parser


@pytest.mark.parametrize("args", LM_EVAL, ids=[" ".join(a[:3]) for a in LM_EVAL])
def test_every_lm_eval_command_parses_and_evaluations_write_what_report_reads(
    args: list[str],
) -> None:
    parser = _lm_eval_parser()
    subcommand = args[0] if args and args[0] in ("run", "ls", "validate") else None
    parsed = parser.parse_args(args if subcommand else ["run", *args])
    if (subcommand or "run") == "run":
        # `shadow-suite report` reads the results and the per-sample files
        assert parsed.output_path and parsed.log_samples, " ".join(args)


def test_the_short_commands_run_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`shadow-suite report out/ --out card/` and `compare runs/*/card --out comparison/ ...`
    exactly as written, on a synthetic lm-eval folder in out/."""
    from report_helpers import make_run

    monkeypatch.chdir(tmp_path)
    make_run(tmp_path / "out", "org/model")
    report = next(a for a in OURS if a[:2] == ["report", "out/"])
    assert main(report) == 0 and (tmp_path / "card" / "card.json").is_file()
    for name in ("MODEL", "OTHER"):
        shutil.copytree(tmp_path / "card", tmp_path / "runs" / name / "card")
    compare = next(a for a in OURS if a[:2] == ["compare", "runs/*/card"])
    if "--pdf" in compare and not shutil.which("chromium"):
        compare = [a for a in compare if a != "--pdf"]
    argv = [p for a in compare for p in (sorted(glob.glob(a)) if "*" in a else [a])]
    assert main(argv) == 0
    assert (tmp_path / "comparison" / "compare.html").is_file()


def _help(*command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices[command[0]].format_help()
    return " ".join(text.split())


def test_numbers_the_help_quotes_are_the_readmes() -> None:
    readme = " ".join(README.split())
    assert gram_accuracy() in readme and gram_accuracy() in _help("spectra")
    assert f"GPU default of {GPU_WORKERS}" in readme
    assert f"at most {CPU_WORKERS_MAX}; on a GPU {GPU_WORKERS}" in _help("spectra")
    assert f"batches of {CPU_BATCH_SIZE}" in readme and f"means {CPU_BATCH_SIZE}" in _help("run")
    for benchmark, shots in PRESETS["open-llm-v1"].items():
        title = BENCHMARK_TITLES[benchmark]
        assert f"{title} {shots}-shot" in readme and f"{title} {shots}" in _help("run")
    # the demo's duration is the README's to state (measured there), not the help's
    assert "minute" not in _help("demo")


def test_help_is_plain_text() -> None:
    """No reStructuredText markup (``code``) in any command's help."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert "``" not in command.format_help(), name


@pytest.mark.skipif(os.name != "posix", reason="shell syntax")
def test_the_quick_start_installs_the_tool_without_the_developer_extras() -> None:
    quick = README[README.index("## Quick start") :]
    block = re.search(r"```bash\n(.*?)```", quick, re.S)
    assert block is not None
    first, second = (line for line in block.group(1).splitlines() if not line.startswith("#"))
    assert "pip install torch==2.13.0 -e . " in first and "[test]" not in first
    assert "shadow-suite demo" in first
    assert '".[test]"' in second and "pytest" in second
