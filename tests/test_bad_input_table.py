"""The bad-input table (issue 13): what a hostile or careless user gets from ``shadow-suite``.

One row per case, each run through ``shadow_suite.cli.main`` in-process, and each asserting
exactly one class of outcome:

* ``error``   one line on stderr naming what is wrong, exit 2, no traceback, nothing written;
* ``refusal`` the same one line, and everything computed before is still there, byte for byte;
* ``skip``    exit 0, and what could not be done is listed (not hidden, not mislabelled);
* ``result``  exit 0 and the right result;
* ``interrupted`` Ctrl-C: exit 130, one line, and the finished work kept for a rerun.

``setup`` builds what a case needs and returns the command line; ``check`` asserts what must
hold afterwards (outputs intact, values right). Model runs use the session's tiny model,
``--limit 2`` and WinoGrande only.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from safetensors.torch import load_file

from shadow_suite.cli import main
from shadow_suite.taskpack import data

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS / "spectral"), str(TESTS / "report"), str(TESTS / "gap")]

from fake_lm_eval import Item, simulate, write_run  # noqa: E402
from report_helpers import HOSTILE_NAME, make_run  # noqa: E402
from spectral_helpers import llama_tensors, save_model  # noqa: E402

Outcome = Literal["error", "refusal", "skip", "result", "interrupted"]
TASKS = "shadow_winogrande_orig,shadow_winogrande_lettered"


@dataclass
class World:
    """What one case runs in: its folder, the test's monkeypatch, things setup hands check."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest
    stash: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""

    def tiny_model(self) -> Path:
        return self.request.getfixturevalue("tiny_model")

    def spectra_model(self, name: str = "model", **shape: int) -> Path:
        return save_model(self.tmp / name, llama_tensors(**shape))

    def model_folder(self) -> Path:
        """A folder that exists (the checks before loading only look at the path)."""
        folder = self.tmp / "some_model"
        folder.mkdir(exist_ok=True)
        return folder

    def run_args(self, model: Path, out: Path, *extra: str) -> list[str]:
        return ["run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
                "--tasks", TASKS, "--limit", "2", "--batch_size", "4", "--out", str(out),
                *extra]  # fmt: skip

    def data_copy(
        self, benchmark: str, split: str, line: int, edit: Callable[[dict], None]
    ) -> Path:
        """A data folder whose ``benchmark`` holds the shared splits, ``split`` with row
        ``line`` (1-based) edited; SHADOW_SUITE_DATA points at it."""
        shared = Path(data.resolve_data_dir())
        folder = self.tmp / "data"
        (folder / benchmark).mkdir(parents=True)
        for source in (shared / benchmark).glob("*.jsonl"):
            (folder / benchmark / source.name).symlink_to(source)
        target = folder / benchmark / f"{split}.jsonl"
        lines = target.read_text(encoding="utf-8").split("\n")
        target.unlink()
        row = json.loads(lines[line - 1])
        edit(row)
        lines[line - 1] = json.dumps(row, ensure_ascii=False)
        target.write_text("\n".join(lines), encoding="utf-8")
        self.monkeypatch.setenv("SHADOW_SUITE_DATA", str(folder))
        return folder


@dataclass(frozen=True)
class Case:
    outcome: Outcome
    expect: str
    """A fragment of the one-line error (error, refusal) or of the listing (skip)."""
    setup: Callable[[World], list[str]]
    check: Callable[[World], None] | None = None


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes (lock files aside: empty, kept on purpose)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def spectra_table(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "spectra.parquet").set_index("name").sort_index()


# --- spectra -------------------------------------------------------------------------------


def _spectra(world: World, *extra: str, model: Path | None = None) -> list[str]:
    model = model or world.spectra_model()
    return ["spectra", str(model), "--quiet", "--no-file-hash", *extra]


def _damaged_cache(world: World) -> list[str]:
    model = world.spectra_model()
    cache = world.tmp / "cache"
    assert main(_spectra(world, "--cache-dir", str(cache), "--out", str(world.tmp / "fresh"),
                         model=model)) == 0  # fmt: skip
    entries = sorted(cache.rglob("*.npz"))
    assert len(entries) > 2
    entries[0].write_bytes(b"")  # empty
    entries[1].write_bytes(entries[1].read_bytes()[:100])  # truncated
    world.stash["damaged"] = entries[:2]
    return _spectra(
        world, "--cache-dir", str(cache), "--out", str(world.tmp / "again"), model=model
    )


def _damaged_cache_check(world: World) -> None:
    fresh, again = spectra_table(world.tmp / "fresh"), spectra_table(world.tmp / "again")
    recomputed = ~again["cached"].astype("boolean").fillna(True)  # skipped tensors: NA
    assert int(recomputed.sum()) == 2  # the two damaged entries, and only they
    numbers = fresh.select_dtypes("number").columns.drop(["seconds", "cached"], errors="ignore")
    pd.testing.assert_frame_equal(fresh[numbers], again[numbers])
    for entry in world.stash["damaged"]:
        assert entry.stat().st_size > 100  # written again, whole


def _other_mlp_width(world: World) -> list[str]:
    base = world.spectra_model("base", seed=1, inter=48)
    return _spectra(world, "--base", str(base), "--no-cache", "--out", str(world.tmp / "s"))


def _other_mlp_width_check(world: World) -> None:
    document = json.loads((world.tmp / "s" / "spectra.json").read_text())
    listed = {m["name"]: m["note"] for m in document["unmatched"]["shape_mismatch"]}
    assert len(listed) == 6 and all(".mlp." in name for name in listed)
    assert all(note.startswith("not compared with the base") for note in listed.values())
    table = spectra_table(world.tmp / "s")
    mlp = table.index.str.contains(r"\.mlp\.")
    assert table.loc[mlp, "update_relative_change"].isna().all()  # not compared...
    assert table.loc[mlp, "stable_rank"].notna().all()  # ...but analysed
    attention = table.index.str.contains("self_attn")
    assert table.loc[attention, "update_relative_change"].notna().all()


def _grown_vocabulary(world: World) -> list[str]:
    world.stash["base"] = world.spectra_model("base", seed=1, vocab=56)
    return _spectra(world, "--base", str(world.stash["base"]), "--no-cache",
                    "--out", str(world.tmp / "s"))  # fmt: skip


def _grown_vocabulary_check(world: World) -> None:
    document = json.loads((world.tmp / "s" / "spectra.json").read_text())
    listed = {m["name"]: m["note"] for m in document["unmatched"]["shape_mismatch"]}
    assert set(listed) == {"model.embed_tokens.weight", "lm_head.weight"}
    assert all(note.startswith("grown vocabulary: compared the 56 shared rows") for note in
               listed.values())  # fmt: skip
    table = spectra_table(world.tmp / "s")
    model = load_file(str(world.tmp / "model" / "model.safetensors"))
    base = load_file(str(world.stash["base"] / "model.safetensors"))
    for name in listed:  # the update is measured on the base's rows only
        w, w0 = (x.double().numpy() for x in (model[name][:56], base[name]))
        expected = np.linalg.norm(w - w0) / np.linalg.norm(w0)
        assert table.loc[name, "update_relative_change"] == pytest.approx(expected, rel=1e-6)


# --- run -----------------------------------------------------------------------------------


def _without_tenacity(world: World) -> list[str]:
    world.monkeypatch.setitem(sys.modules, "tenacity", None)  # as if not installed
    return ["run", "--model", "local-completions", "--model_args",
            "model=m,base_url=http://127.0.0.1:9/v1/completions",
            "--tasks", "shadow_gsm8k_orig", "--out", str(world.tmp / "out")]  # fmt: skip


def _out_is_a_file(world: World, command: str) -> list[str]:
    file = world.tmp / "taken"
    file.write_text("mine\n")
    world.stash["file"] = file
    if command == "spectra":
        return _spectra(world, "--out", str(file))
    return world.run_args(world.model_folder(), file)


def _out_is_a_file_check(world: World) -> None:
    assert world.stash["file"].read_text() == "mine\n"


def _rerun_with_other_base(world: World) -> list[str]:
    model = world.tiny_model()
    base_a, base_b = world.tmp / "base_a", world.tmp / "base_b"
    shutil.copytree(model, base_a)
    shutil.copytree(model, base_b)
    out = world.tmp / "run"
    assert main(world.run_args(model, out, "--base", str(base_a), "--no-base-eval")) == 0
    world.stash["before"] = snapshot(out)
    return world.run_args(model, out, "--base", str(base_b), "--no-base-eval")


def _rerun_with_other_base_check(world: World) -> None:
    out = world.tmp / "run"
    assert snapshot(out) == world.stash["before"]
    card = json.loads((out / "card" / "card.json").read_text())
    assert card["base_model"]["name"] == str(world.tmp / "base_a")
    assert card["spectral"] is not None


def _stale_half_written_eval(world: World) -> list[str]:
    """A run killed while lm-eval wrote its files, with other settings (3 items, seed 7): its
    files in the stage's temporary folder, and in an ``eval/`` with no marker (older code)."""
    out = world.tmp / "run"
    for folder in (out / ".eval.tmp-killed", out / "eval"):
        items = [Item(i, i % 2 == 0) for i in range(3)]
        write_run(folder, {("winogrande", "orig"): items, ("winogrande", "lettered"): items},
                  model_name=str(world.tiny_model()), seed=7, date_id="2026-01-01T00-00-00.0",
                  date=1.0)  # fmt: skip
    return world.run_args(world.tiny_model(), out)


def _stale_half_written_eval_check(world: World) -> None:
    out = world.tmp / "run"
    assert not list(out.glob(".eval.tmp-*"))
    assert len(list((out / "eval").rglob("results_*.json"))) == 1
    assert json.loads((out / "eval" / "stage.json").read_text())["settings"]["seed"] == 1234
    card = json.loads((out / "card" / "card.json").read_text())
    statuses = {t["task"]: t for t in card["tasks"] if t["task"].startswith("shadow_winogrande_")}
    assert {t: s["status"] for t, s in statuses.items() if s["status"] != "not_run"} == {
        "shadow_winogrande_orig": "ok",
        "shadow_winogrande_lettered": "ok",
    }
    assert all(s["n_items"] == 2 for s in statuses.values() if s["status"] == "ok")
    items = pd.read_parquet(out / "card" / "items.parquet")
    assert len(items) == 4 and set(items.task) == set(TASKS.split(","))


# --- data rows -----------------------------------------------------------------------------


def _broken_row(benchmark: str, split: str, line: int, edit: Callable[[dict], None], task: str):
    def setup(world: World) -> list[str]:
        folder = world.data_copy(benchmark, split, line, edit)
        world.stash["path"] = folder / benchmark / f"{split}.jsonl"
        args = world.run_args(world.model_folder(), world.tmp / "out")
        args[args.index("--tasks") + 1] = task
        return args

    return setup


def _broken_hub_row(world: World) -> list[str]:
    import datasets

    rows = [json.loads(line) for line in
            (Path(data.resolve_data_dir()) / "winogrande" / "validation.jsonl").open()]  # fmt: skip
    rows[3]["answer"] = "3"
    world.monkeypatch.delenv("SHADOW_SUITE_DATA")
    world.monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: rows)
    data._read_hub.cache_clear()
    return ["variants", "--benchmark", "winogrande"]


def _as_mmlu_row(row: dict) -> None:
    """A twin row in another benchmark's schema (MMLU's, in ARC-Challenge's twin file)."""
    row.clear()
    row.update(subject="astronomy", question="Q?", choices=["a", "b", "c", "d"], answer=0)


def _data_not_written(world: World) -> None:
    assert not (world.tmp / "out").exists() or not any((world.tmp / "out").iterdir())


# --- report --------------------------------------------------------------------------------


def _samples_cut(world: World) -> list[str]:
    make_run(world.tmp / "eval")
    (path,) = (world.tmp / "eval").rglob("samples_shadow_mmlu_permuted_*.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))  # cut at a line boundary
    return ["report", str(world.tmp / "eval"), "--out", str(world.tmp / "card"), "--n-boot", "100"]


def _samples_cut_check(world: World) -> None:
    card = json.loads((world.tmp / "card" / "card.json").read_text())
    status = {t["task"]: t for t in card["tasks"]}["shadow_mmlu_permuted"]
    assert status["status"] == "incomplete" and "left out" in status["message"]
    items = pd.read_parquet(world.tmp / "card" / "items.parquet")
    assert "shadow_mmlu_permuted" not in set(items.task)
    assert "shadow_mmlu_orig" in set(items.task)


def _mixed_seeds(world: World) -> list[str]:
    make_run(world.tmp / "eval")
    rng = np.random.default_rng(0)
    later = simulate({"hellaswag": 0.5}, {"lettered": 0.1}, 50, rng)
    write_run(world.tmp / "eval", later, seed=7, date_id="2026-11-28T00-00-00.0",
              date=1795800000.0)  # fmt: skip
    return ["report", str(world.tmp / "eval"), "--out", str(world.tmp / "card")]


def _hostile_name(world: World) -> list[str]:
    make_run(world.tmp / "eval", HOSTILE_NAME)
    return ["report", str(world.tmp / "eval"), "--out", str(world.tmp / "card"), "--n-boot", "100"]


def _hostile_name_check(world: World) -> None:
    page = (world.tmp / "card" / "card.html").read_text()
    assert HOSTILE_NAME not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page


def _no_card(world: World) -> None:
    assert not (world.tmp / "card").exists()


def _without_card(world: World) -> None:
    assert not (world.tmp / "out" / "card").exists()


def _interrupted_spectra(world: World) -> list[str]:
    """Ctrl-C (SIGINT's KeyboardInterrupt) in the middle of a spectra run: one line, exit 130,
    and every tensor finished before it stays in the cache, so a rerun resumes."""
    from shadow_suite.spectral import engine

    model, cache = world.spectra_model(), world.tmp / "cache"
    compute, calls = engine._compute, [0]

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 6:
            raise KeyboardInterrupt
        return compute(*args, **kwargs)

    world.monkeypatch.setattr(engine, "_compute", interrupted)
    world.stash.update(model=model, cache=cache, compute=compute)
    return _spectra(world, "--cache-dir", str(cache), "--workers", "1", "--out",
                    str(world.tmp / "first"), model=model)  # fmt: skip


def _interrupted_spectra_check(world: World) -> None:
    from shadow_suite.spectral import engine

    world.monkeypatch.setattr(engine, "_compute", world.stash["compute"])
    assert not (world.tmp / "first").exists()  # no half-written output set
    kept = len(list(world.stash["cache"].rglob("*.npz")))
    assert kept >= 4  # the tensors done before Ctrl-C
    model, cache = world.stash["model"], str(world.stash["cache"])
    assert main(_spectra(world, "--cache-dir", cache, "--out", str(world.tmp / "again"),
                         model=model)) == 0  # fmt: skip
    assert main(_spectra(world, "--no-cache", "--out", str(world.tmp / "fresh"), model=model)) == 0
    again, fresh = spectra_table(world.tmp / "again"), spectra_table(world.tmp / "fresh")
    assert int(again["cached"].astype("boolean").fillna(False).sum()) == kept  # resumed
    numbers = fresh.select_dtypes("number").columns.drop(["seconds", "cached"], errors="ignore")
    pd.testing.assert_frame_equal(fresh[numbers], again[numbers])


def _normal_permissions(world: World, command: str) -> list[str]:
    """Outputs are made through temporary files (mkstemp: mode 0600); with the usual umask
    022 the user's files are 0644, and so must the card's and the spectra's be."""
    old = os.umask(0o022)
    world.request.addfinalizer(lambda: os.umask(old))
    if command == "report":
        return ["report", str(make_run(world.tmp / "eval", "org/m")), "--out",
                str(world.tmp / "out"), "--n-boot", "100"]  # fmt: skip
    return [*_spectra(world), "--out", str(world.tmp / "out")]


def _normal_permissions_check(world: World) -> None:
    files = [p for p in (world.tmp / "out").iterdir() if p.is_file()]
    assert len(files) >= 3
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}, files


def _two_spectra_runs_at_once(world: World) -> list[str]:
    """Two `spectra` runs of different models into one --out at the same time: whichever
    finishes last, the folder holds one run's JSON, table and singular values, never a mix."""
    other = world.spectra_model("other", hidden=48, inter=96)
    out = world.tmp / "out"
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(main([*_spectra(world, model=other), "--out", str(out)]))
    )
    world.stash["thread"], world.stash["results"] = thread, results
    thread.start()
    return [*_spectra(world), "--out", str(out)]


def _two_spectra_runs_at_once_check(world: World) -> None:
    world.stash["thread"].join(timeout=120)
    assert world.stash["results"] == [0]
    out = world.tmp / "out"
    document = json.loads((out / "spectra.json").read_text())
    hidden = 48 if Path(document["model"]["path"]).name == "other" else 32
    table = spectra_table(out)
    ok = table[table["status"] == "ok"]
    assert int(ok.loc["model.layers.0.self_attn.q_proj.weight", "cols"]) == hidden
    with np.load(out / "singular_values.npz") as arrays:
        assert arrays["sv::model.layers.0.self_attn.q_proj.weight"].size == hidden
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out")]


slow = pytest.mark.slow
CASES = {
    # spectra
    "spectra --workers 0": Case("error", "--workers 0: give a positive number",
                                lambda w: _spectra(w, "--workers", "0")),
    "spectra --top-k -3": Case("error", "--top-k -3: give a positive number",
                               lambda w: _spectra(w, "--top-k", "-3")),
    "spectra missing model": Case("error", "nowhere",
                                  lambda w: _spectra(w, model=w.tmp / "nowhere")),
    "spectra --out under /proc": Case("error", "/proc is not writable",
                                      lambda w: _spectra(w, "--out", "/proc/x/out")),
    "spectra --out is a file": Case("error", "exists and is not a folder",
                                    lambda w: _out_is_a_file(w, "spectra"), _out_is_a_file_check),
    "spectra --modules matches nothing": Case("error", "--modules 'nothing_like_this' matches none",
                                              lambda w: _spectra(w, "--modules", "nothing_like_this")),
    "spectra damaged cache entries": Case("result", "", _damaged_cache, _damaged_cache_check),
    "spectra base MLP of another width": Case("skip", "not compared with the base",
                                              _other_mlp_width, _other_mlp_width_check),
    "spectra grown embedding": Case("result", "", _grown_vocabulary, _grown_vocabulary_check),
    "spectra interrupted (Ctrl-C), then resumed": Case(
        "interrupted", "interrupted; finished work is kept", _interrupted_spectra,
        _interrupted_spectra_check),
    "spectra outputs get the user's permissions": Case(
        "result", "", lambda w: _normal_permissions(w, "spectra"), _normal_permissions_check),
    "spectra two runs into one --out at once": Case(
        "result", "", _two_spectra_runs_at_once, _two_spectra_runs_at_once_check),
    # run: arguments, checked before a model is loaded
    "run --limit 0": Case("error", "--limit 0: give a positive number",
                          lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--limit", "0")),
    "run --limit -1": Case("error", "--limit -1: give a positive number",
                           lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--limit", "-1")),
    "run --tasks ,": Case("error", "--tasks: no task named",
                          lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--tasks", ",")),
    "run unknown task": Case("error", "unknown task 'shadow_winogrand_orig'; did you mean",
                             lambda w: w.run_args(w.model_folder(), w.tmp / "out",
                                                  "--tasks", "shadow_winogrand_orig")),
    "run missing model": Case("error", "pretrained=/nowhere/model: no such model folder",
                              lambda w: w.run_args(Path("/nowhere/model"), w.tmp / "out")),
    "run missing base": Case("error", "--base /nowhere/base: no such model folder",
                             lambda w: w.run_args(w.model_folder(), w.tmp / "out",
                                                  "--base", "/nowhere/base")),
    "run --out under /proc": Case("error", "/proc is not writable",
                                  lambda w: w.run_args(w.model_folder(), Path("/proc/x/out"))),
    "run --out is a file": Case("error", "exists and is not a folder",
                                lambda w: _out_is_a_file(w, "run"), _out_is_a_file_check),
    "run --num_fewshot without a train split": Case(
        "error", "--num_fewshot 25: arc_challenge draws few-shot examples from its train split",
        lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--tasks",
                             "shadow_arc_challenge_orig", "--num_fewshot", "25")),
    "run local-completions without tenacity": Case(
        "error", "needs the Python package 'tenacity': pip install 'lm-eval[api]'",
        _without_tenacity),
    # run: stages
    "run again with another --base": pytest.param(
        Case("refusal", "holds a finished spectra stage run with other settings (base:",
             _rerun_with_other_base, _rerun_with_other_base_check), marks=slow),
    "run after a killed eval with other settings": pytest.param(
        Case("result", "", _stale_half_written_eval, _stale_half_written_eval_check), marks=slow),
    # data rows: fatal, file and row named (skipping would change the item set silently)
    "data row without sentence (outside --limit)": Case(
        "error", "validation.jsonl, line 5: field 'sentence' missing (benchmark winogrande)",
        _broken_row("winogrande", "validation", 5, lambda r: r.pop("sentence"),
                    "shadow_winogrande_orig"), _data_not_written),
    "data row with answerKey not a label": Case(
        "error", "test.jsonl, line 2: field 'answerKey' is 'E', expected one of the row's "
        "choices.label (benchmark arc_challenge)",
        _broken_row("arc_challenge", "test", 2, lambda r: r.update(answerKey="E"),
                    "shadow_arc_challenge_permuted"), _data_not_written),
    "data row with question null (few-shot split)": Case(
        "error", "dev.jsonl, line 3: field 'question' missing (benchmark mmlu)",
        _broken_row("mmlu", "dev", 3, lambda r: r.update(question=None), "shadow_mmlu_orig"),
        _data_not_written),
    "data row with answer 7": Case(
        "error", "dev.jsonl, line 1: field 'answer' is 7, expected an integer 0-3 (benchmark mmlu)",
        _broken_row("mmlu", "dev", 1, lambda r: r.update(answer=7), "shadow_mmlu"),
        _data_not_written),
    "data row without a final #### N": Case(
        "error", "train.jsonl, line 4: field 'answer' is",
        _broken_row("gsm8k", "train", 4, lambda r: r.update(answer="no final line"),
                    "shadow_gsm8k_orig"), _data_not_written),
    "twin file of another schema (memorization)": Case(
        "error", "validation.jsonl, line 1: field 'choices' is ['a', 'b', 'c', 'd'], expected "
        "{text: [...], label: [...]}, as many labels as texts (benchmark arc_challenge)",
        _broken_row("arc_challenge", "validation", 1, _as_mmlu_row, "shadow_arc_challenge"),
        _data_not_written),
    "hub row with answer 3": Case(
        "error", "hub dataset allenai/winogrande/winogrande_xl, split validation, row index 3: "
        "field 'answer' is '3', expected '1' or '2' (benchmark winogrande)", _broken_hub_row),
    # report
    "report samples file cut at a line boundary": Case(
        "skip", "incomplete", _samples_cut, _samples_cut_check),
    "report mixed seeds in one results folder": Case(
        "refusal", "seed", _mixed_seeds, _no_card),
    "report hostile model name": Case("result", "", _hostile_name, _hostile_name_check),
    "report card files get the user's permissions": Case(
        "result", "", lambda w: _normal_permissions(w, "report"), _normal_permissions_check),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _own_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The spectral cache in the test's folder, and no hub rows kept from one case to the next."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    yield
    data._read_hub.cache_clear()


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = World(tmp_path, monkeypatch, request)
    argv = case.setup(world)
    capsys.readouterr()  # only what the case's own command prints
    code = main(argv)
    out, err = capsys.readouterr()
    world.stdout = out
    assert "Traceback" not in out + err
    if case.outcome == "interrupted":
        assert code == 130, err
        assert err.strip() == f"shadow-suite {argv[0]}: {case.expect}"
    elif case.outcome in ("error", "refusal"):
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"shadow-suite {argv[0]}: error: ")
        assert case.expect in lines[0]
    else:
        assert code == 0, err
        if case.outcome == "skip":
            assert case.expect in "".join(
                p.read_text() for p in tmp_path.rglob("*.json") if p.is_file()
            )
    assert case.check is not None or case.outcome == "error"
    if case.check is not None:
        case.check(world)
