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
import re
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
PROGRESS = re.compile(r"\d+%\|.*\|")
"""A tqdm progress bar's line."""
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


# --- issue 23: know what was measured --------------------------------------------------
# cause 1: a model is its files, not its path


def _copy_model(world: World, name: str = "model") -> Path:
    return Path(shutil.copytree(world.tiny_model(), world.tmp / name))


def _replace_weights(folder: Path) -> None:
    """Other weights saved in place, as a re-trained checkpoint would be (same shapes)."""
    from safetensors.torch import save_file

    path = folder / "model.safetensors"
    tensors = load_file(str(path))
    for name, tensor in tensors.items():
        if tensor.ndim == 2:
            tensors[name] = tensor.flip(0).contiguous()
    save_file(tensors, str(path), metadata={"format": "pt"})


def _weights_replaced_after_a_run(world: World, *extra: str) -> list[str]:
    model, out = _copy_model(world), world.tmp / "run"
    assert main(world.run_args(model, out)) == 0
    world.stash["before"] = snapshot(out)
    world.stash["old_card"] = json.loads((out / "card" / "card.json").read_text())
    _replace_weights(model)
    return world.run_args(model, out, *extra)


def _nothing_changed(world: World) -> None:
    assert snapshot(world.tmp / "run") == world.stash["before"]


def _recomputed_for_the_new_weights(world: World) -> None:
    from shadow_suite.identity import model_identity

    out = world.tmp / "run"
    new = model_identity(world.tmp / "model").digest
    card = json.loads((out / "card" / "card.json").read_text())
    assert card["model"]["identity"] == new != world.stash["old_card"]["model"]["identity"]
    assert card["spectral"]["model_identity"] == new
    for stage in ("eval", "spectra"):
        marker = json.loads((out / stage / "stage.json").read_text())
        assert marker["settings"]["model_identity"] == new
    # the new weights' own answers: a fresh run of them into another folder agrees
    assert main(world.run_args(world.tmp / "model", world.tmp / "fresh")) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "card" / "items.parquet"),
        pd.read_parquet(world.tmp / "fresh" / "card" / "items.parquet"),
    )


def _interrupted_eval(world: World, model: Path, out: Path) -> None:
    """``run`` into ``out``, stopped by Ctrl-C inside lm-eval's second model call."""
    from lm_eval.models.huggingface import HFLM

    model_call, calls = HFLM._model_call, [0]

    def interrupted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return model_call(self, *args, **kwargs)

    world.monkeypatch.setattr(HFLM, "_model_call", interrupted)
    assert main(world.run_args(model, out, "--batch_size", "2")) == 130
    world.monkeypatch.setattr(HFLM, "_model_call", model_call)
    assert not (out / "eval").exists() and (out / ".eval.started.json").is_file()


def _weights_replaced_in_an_interrupted_run(world: World, *extra: str) -> list[str]:
    model, out = _copy_model(world), world.tmp / "run"
    _interrupted_eval(world, model, out)
    _replace_weights(model)
    world.stash["before"] = snapshot(out)
    return world.run_args(model, out, "--batch_size", "2", *extra)


def _resumed_with_the_same_weights(world: World) -> list[str]:
    model, out = _copy_model(world), world.tmp / "run"
    _interrupted_eval(world, model, out)
    return world.run_args(model, out, "--batch_size", "2")


def _finished_card(world: World) -> None:
    card = json.loads((world.tmp / "run" / "card" / "card.json").read_text())
    assert card["model"]["identity"].startswith("sha256:")
    assert not (world.tmp / "run" / ".eval.started.json").exists()


# cause 2: references


def _reports(world: World) -> None:
    """A target (org/target) and a reference (org/ref) evaluated on the same items."""
    make_run(world.tmp / "a", "org/target", drop=0.3, seed=1)
    make_run(world.tmp / "r", "org/ref", drop=0.1, seed=2)


def _report_args(world: World, *extra: str, target: str = "a") -> list[str]:
    return ["report", str(world.tmp / target), "--n-boot", "200", "--out",
            str(world.tmp / "card"), *extra]  # fmt: skip


def _report(*extra: str, out: str = "card") -> Callable[[World], list[str]]:
    """``report`` of the target (``_reports``) with ``extra`` and ``--out tmp/out``."""

    def setup(world: World) -> list[str]:
        _reports(world)
        return ["report", str(world.tmp / "a"), "--n-boot", "200", *extra,
                "--out", str(world.tmp / out)]  # fmt: skip

    return setup


def _one_reference_three_spellings(world: World) -> list[str]:
    _reports(world)
    (world.tmp / "link").symlink_to(world.tmp / "r")
    (world.tmp / "sub").mkdir()
    spellings = [world.tmp / "r", world.tmp / "link", world.tmp / "sub" / ".." / "r"]
    return _report_args(world, *(x for s in spellings for x in ("--reference", str(s))))


def _counted_once(world: World) -> None:
    card = json.loads((world.tmp / "card" / "card.json").read_text())
    assert card["gap"]["reference"]["references"] == ["org/ref"]
    assert sum("counted once" in w for w in card["warnings"]) == 2


def _target_as_reference(world: World, how: str) -> list[str]:
    _reports(world)
    if how == "folder":
        return _report_args(world, "--reference", str(world.tmp / "a"))
    assert main(_report_args(world)) == 0  # the target's own card
    shutil.move(world.tmp / "card", world.tmp / "card_a")
    if how == "items":  # the reference's card, with the target's items beside it
        assert main(["report", str(world.tmp / "r"), "--out", str(world.tmp / "card_r"),
                     "--n-boot", "200"]) == 0  # fmt: skip
        shutil.copy(world.tmp / "card_a" / "items.parquet", world.tmp / "card_r" / "items.parquet")
        return _report_args(world, "--reference", str(world.tmp / "card_r"))
    return _report_args(world, "--reference", str(world.tmp / "card_a"))


def _own_run_as_reference(world: World) -> list[str]:
    """A finished run of the model given to a new run of the same model as its reference:
    refused by model identity before the evaluation."""
    model = _copy_model(world)
    assert main(world.run_args(model, world.tmp / "first")) == 0
    return world.run_args(model, world.tmp / "run", "--reference", str(world.tmp / "first"))


def _reference_of_another_seed(world: World) -> list[str]:
    make_run(world.tmp / "ref", "org/ref")
    for path in (world.tmp / "ref").rglob("*.jsonl"):
        path.write_text(path.read_text().replace('"shadow_seed": 1234', '"shadow_seed": 7'))
    return world.run_args(_copy_model(world), world.tmp / "run", "--reference",
                          str(world.tmp / "ref"))  # fmt: skip


def _not_evaluated(world: World) -> None:
    assert not (world.tmp / "run" / "eval").exists()
    assert not list((world.tmp / "run").glob(".eval.*"))


# cause 3: outputs never overwrite inputs


def _out_is_the_reference(world: World) -> list[str]:
    _reports(world)
    assert main(["report", str(world.tmp / "r"), "--out", str(world.tmp / "card_r"),
                 "--n-boot", "200"]) == 0  # fmt: skip
    world.stash["before"] = snapshot(world.tmp / "card_r")
    return ["report", str(world.tmp / "a"), "--reference", str(world.tmp / "card_r"),
            "--out", str(world.tmp / "card_r")]  # fmt: skip


def _reference_intact(world: World) -> None:
    assert snapshot(world.tmp / "card_r") == world.stash["before"]


def _spectra_out_is_a_link(world: World) -> list[str]:
    other = world.spectra_model("other", hidden=48, inter=96)
    real = world.tmp / "real"
    assert main([*_spectra(world, model=other), "--out", str(real)]) == 0  # stale results
    (world.tmp / "link").symlink_to(real)
    return [*_spectra(world), "--out", str(world.tmp / "link")]


def _written_through_the_link(world: World) -> None:
    link = world.tmp / "link"
    assert link.is_symlink() and link.resolve() == (world.tmp / "real").resolve()
    document = json.loads((world.tmp / "real" / "spectra.json").read_text())
    assert Path(document["model"]["path"]).name == "model"  # not the stale "other"
    assert not [p for p in world.tmp.iterdir() if p.name.startswith((".link", ".real"))]


# cause 4: one model per card


def _spectra_of_another_model(world: World) -> list[str]:
    evaluated = world.spectra_model("evaluated")
    make_run(world.tmp / "a", str(evaluated))  # lm_eval output of a local folder
    other = world.spectra_model("other", seed=5)
    assert main([*_spectra(world, model=other), "--out", str(world.tmp / "s")]) == 0
    return _report_args(world, "--spectra", str(world.tmp / "s"))


def _base_spectra_not_the_base(world: World) -> list[str]:
    make_run(world.tmp / "a", "org/target")
    model, base = world.spectra_model(), world.spectra_model("base", seed=1)
    stranger = world.spectra_model("stranger", seed=2)
    assert main([*_spectra(world, "--base", str(base), model=model), "--out",
                 str(world.tmp / "s")]) == 0  # fmt: skip
    assert main([*_spectra(world, model=stranger), "--out", str(world.tmp / "sb")]) == 0
    return _report_args(world, "--spectra", str(world.tmp / "s"), "--base-spectra",
                        str(world.tmp / "sb"))  # fmt: skip


def _single_file_and_index(world: World) -> list[str]:
    model = world.spectra_model()
    shards = save_model(world.tmp / "sharded", llama_tensors(seed=3), shards=2)
    for path in shards.glob("model-*"):
        shutil.copy(path, model / path.name)
    shutil.copy(shards / "model.safetensors.index.json", model)
    return [*_spectra(world, model=model), "--out", str(world.tmp / "s")]


def _duplicate_tensor_name(world: World) -> list[str]:
    model = world.spectra_model()
    path = model / "model.safetensors"
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    first = next(k for k in header if k != "__metadata__")
    entry = json.dumps(header[first])
    text = raw[8 : 8 + size].decode().replace("{", "{" + json.dumps(first) + ": " + entry + ", ", 1)
    encoded = text.encode()
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + raw[8 + size :])
    return [*_spectra(world, model=model), "--out", str(world.tmp / "s")]


# cause 5: numbers that cannot be right


def _edited_sample(world: World, task: str, edit: Callable[[dict], None]) -> list[str]:
    make_run(world.tmp / "a", "org/target")
    (path,) = (world.tmp / "a").rglob(f"samples_{task}_*.jsonl")
    lines = path.read_text().splitlines()
    line = json.loads(lines[2])
    edit(line)
    lines[2] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")
    return _report_args(world)


def _nan_loglikelihood(line: dict) -> None:
    line["filtered_resps"][1][0] = "nan"


def _acc_flipped(line: dict) -> None:
    line["acc"] = 1.0 - line["acc"]


def _gold_out_of_range(line: dict) -> None:
    line["target"] = "7"


def _edited_card(world: World, edit: Callable[[dict], None]) -> list[str]:
    make_run(world.tmp / "a", "org/target")
    assert main(_report_args(world)) == 0
    path = world.tmp / "card" / "card.json"
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    return ["compare", str(path.parent), "--out", str(world.tmp / "cmp")]


def _set_accuracy(value: float) -> Callable[[dict], None]:
    def edit(card: dict) -> None:
        card["gap"]["benchmarks"][0]["variants"][0]["acc_orig"] = value

    return edit


def _set_type(card: dict) -> None:
    card["gap"]["n_boot"] = "many"


# cause 6: internal errors where a one-line error belongs


def _broken_model(edit: Callable[[Path], None]):
    def setup(world: World) -> list[str]:
        model = _copy_model(world)
        edit(model)
        return world.run_args(model, world.tmp / "out")

    return setup


def _truncate(model: Path) -> None:
    path = model / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])


def _edit_config(**changes: Any) -> Callable[[Path], None]:
    def edit(model: Path) -> None:
        config = json.loads((model / "config.json").read_text())
        config.update(changes)
        (model / "config.json").write_text(json.dumps(config))

    return edit


def _disk_full(world: World, command: str) -> list[str]:
    """ENOSPC while the outputs are written (simulated: the disk of this machine is not full)."""
    import errno

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if command == "spectra":
        world.monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
        return [*_spectra(world), "--out", str(world.tmp / "out")]
    from lm_eval.loggers import EvaluationTracker

    world.monkeypatch.setattr(EvaluationTracker, "save_results_aggregated", full)
    return world.run_args(_copy_model(world), world.tmp / "out")


def _disk_full_kept(world: World) -> None:
    assert not (world.tmp / "out" / "spectra.json").exists()
    assert not (world.tmp / "out" / "eval").exists()  # no half-written stage


def _undecodable_data(world: World, command: str, content: bytes) -> list[str]:
    shared = Path(data.resolve_data_dir())
    folder = world.tmp / "data"
    (folder / "winogrande").mkdir(parents=True)
    (folder / "winogrande" / "validation.jsonl").write_bytes(content)
    world.monkeypatch.setenv("SHADOW_SUITE_DATA", str(folder))
    for name in ("mmlu", "arc_challenge", "hellaswag", "gsm8k"):
        (folder / name).symlink_to(shared / name)
    if command == "run":
        return world.run_args(world.model_folder(), world.tmp / "out")
    if command == "variants":
        return ["variants", "--benchmark", "winogrande"]
    return ["data", "hashes"]


def _gzip_of_validation() -> bytes:
    import gzip

    shared = Path(data.resolve_data_dir())
    return gzip.compress((shared / "winogrande" / "validation.jsonl").read_bytes())


# cause 7: smaller


def _markdown_name(world: World) -> list[str]:
    make_run(world.tmp / "a", "org/target")
    return _report_args(
        world, "--name", "[click](https://evil.example) ![x](https://evil.example/x.png)"
    )


def _markdown_name_check(world: World) -> None:
    text = (world.tmp / "card" / "card.md").read_text()
    assert "](" not in text and "[click]\\(https://evil.example)" in text


def _items_from_the_environment(world: World) -> list[str]:
    world.monkeypatch.setenv("SHADOW_SUITE_ITEMS", "5000")
    args = world.run_args(world.model_folder(), world.tmp / "out")
    at = args.index("--limit")
    return args[:at] + args[at + 2 :]


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
    # issue 23, cause 1: a model is its files; a rerun on other weights never reuses the old
    "run after the weights were replaced (finished run)": pytest.param(Case(
        "refusal", "holds a finished eval stage run with other settings (model_identity: ",
        _weights_replaced_after_a_run, _nothing_changed), marks=slow),
    "run --force after the weights were replaced": pytest.param(Case(
        "result", "", lambda w: _weights_replaced_after_a_run(w, "--force"),
        _recomputed_for_the_new_weights), marks=slow),
    "run after the weights were replaced (interrupted run)": pytest.param(Case(
        "refusal", "an interrupted eval stage ran on another model (model_identity: ",
        _weights_replaced_in_an_interrupted_run, _nothing_changed), marks=slow),
    "run resumed on the same weights (interrupted run)": pytest.param(Case(
        "result", "", _resumed_with_the_same_weights, _finished_card), marks=slow),
    # cause 2: references are other models, each counted once
    "report one reference under three spellings": Case(
        "result", "", _one_reference_three_spellings, _counted_once),
    "report the target's folder as its reference": Case(
        "error", "is the evaluated model's own results",
        lambda w: _target_as_reference(w, "folder")),
    "report the target's card as its reference": Case(
        "error", "holds the evaluated model's own answers",
        lambda w: _target_as_reference(w, "card")),
    "report a reference card holding the target's items": Case(
        "error", "holds the evaluated model's own answers",
        lambda w: _target_as_reference(w, "items")),
    "run with its own earlier run as reference": pytest.param(Case(
        "error", "is the evaluated model itself (model identity", _own_run_as_reference,
        _not_evaluated), marks=slow),
    "run --reference of another seed (before evaluating)": Case(
        "error", "was made with shadow_seed 7, this run uses 1234", _reference_of_another_seed,
        _not_evaluated),
    # cause 3: no command writes into a folder it reads from
    "report --out is the reference's card folder": Case(
        "refusal", "which --reference", _out_is_the_reference, _reference_intact),
    "report --out inside its results folder": Case(
        "error", "lies inside", _report(out="a/card")),
    "spectra --out a symbolic link": Case(
        "result", "", _spectra_out_is_a_link, _written_through_the_link),
    "run --out inside the model folder": Case(
        "error", "which --model_args pretrained=",
        lambda w: w.run_args(w.model_folder(), w.model_folder() / "audit")),
    # cause 4: one model per card
    "report --spectra of another model": Case(
        "error", "is of another model (identity", _spectra_of_another_model),
    "report --base-spectra not of the base": Case(
        "error", "not of the base", _base_spectra_not_the_base),
    "run --weights of another model": Case(
        "error", "holds other files than --model_args pretrained=",
        lambda w: w.run_args(_copy_model(w), w.tmp / "out", "--weights",
                             str(w.spectra_model("other")))),
    "spectra of a folder with model.safetensors and an index": Case(
        "error", "transformers loads the first, vLLM the second", _single_file_and_index),
    "spectra of a header naming one tensor twice": Case(
        "error", "twice", _duplicate_tensor_name),
    # cause 5: numbers that cannot be right are refused on the way in
    "report NaN log-likelihoods": Case(
        "error", "shadow_mmlu_orig, item mmlu/test/2: log-likelihood of option 1 is nan",
        lambda w: _edited_sample(w, "shadow_mmlu_orig", _nan_loglikelihood)),
    "report acc contradicting its log-likelihoods": Case(
        "error", "acc is 0 but the log-likelihoods choose option",
        lambda w: _edited_sample(w, "shadow_mmlu_orig", _acc_flipped)),
    "report gold out of range": Case(
        "error", "gold option 7 (target) is outside the item's 4 options",
        lambda w: _edited_sample(w, "shadow_mmlu_orig", _gold_out_of_range)),
    "compare a card edited to accuracy 7.5": Case(
        "error", "variants[0].acc_orig: 7.5 is not a share between 0 and 1",
        lambda w: _edited_card(w, _set_accuracy(7.5))),
    "compare a card edited to accuracy 1e308": Case(
        "error", "acc_orig: 1e+308 is not a share",
        lambda w: _edited_card(w, _set_accuracy(1e308))),
    # cause 6: no internal error on user input
    "run truncated safetensors": Case(
        "error", "model.safetensors: truncated: tensor", _broken_model(_truncate),
        _data_not_written),
    "run broken config.json": Case(
        "error", "config.json: not valid JSON",
        _broken_model(lambda m: (m / "config.json").write_text("{")), _data_not_written),
    "run without a tokenizer": Case(
        "error", "no tokenizer", _broken_model(
            lambda m: [(m / f).unlink() for f in ("tokenizer.json", "tokenizer_config.json")]),
        _data_not_written),
    "run config asking for layers the weights lack": Case(
        "error", "config.json asks for weights the files do not hold (model.layers.2.",
        _broken_model(_edit_config(num_hidden_layers=3)), _data_not_written),
    "run config and weights of other shapes": Case(
        "error", "config.json and the weights disagree: model.layers.0.mlp.down_proj.weight",
        _broken_model(_edit_config(intermediate_size=96)), _data_not_written),
    "run dtype=bogus": Case(
        "error", "--model_args dtype=bogus: give one of auto",
        lambda w: [a.replace("dtype=float32", "dtype=bogus") for a in
                   w.run_args(w.model_folder(), w.tmp / "out")]),
    "run --gen_kwargs max_gen_toks=abc": Case(
        "error", "--gen_kwargs max_gen_toks='abc': give a whole number",
        lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--gen_kwargs", "max_gen_toks=abc")),
    "run --seed beyond 64 bits": Case(
        "error", "expected an integer below 2**63",
        lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--seed", str(2**64))),
    "report --seed -1": Case(
        "error", "--seed -1: give a whole number from 0", _report("--seed", "-1")),
    "report --n-boot 1e11": Case(
        "error", "--n-boot 100000000000: use at most 1,000,000",
        _report("--n-boot", str(10**11))),
    "spectra on a full disk": Case(
        "error", "no space left on device writing", lambda w: _disk_full(w, "spectra"),
        _disk_full_kept),
    "run on a full disk": pytest.param(Case(
        "error", "no space left on device writing", lambda w: _disk_full(w, "run"),
        _disk_full_kept), marks=slow),
    "run data file gzip-compressed": Case(
        "error", "validation.jsonl, line 1: not UTF-8 text (byte 0x8b) (gzip-compressed?",
        lambda w: _undecodable_data(w, "run", _gzip_of_validation())),
    "variants data file with invalid UTF-8": Case(
        "error", "validation.jsonl, line 2: not UTF-8 text (byte 0xff)",
        lambda w: _undecodable_data(w, "variants", b'{"a": 1}\n{"b": "\xff"}\n')),
    "data hashes of invalid UTF-8": Case(
        "error", "validation.jsonl, line 1: not UTF-8 text",
        lambda w: _undecodable_data(w, "hashes", b"\xff\xfe")),
    # cause 7: smaller
    "report --name with Markdown link and image syntax": Case(
        "result", "", _markdown_name, _markdown_name_check),
    "run SHADOW_SUITE_ITEMS beyond a split": Case(
        "error", "SHADOW_SUITE_ITEMS=5000: winogrande's evaluated split has only 1267",
        _items_from_the_environment),
    "run --preset without a train split": Case(
        "error", "--preset open-llm-v1 (25-shot arc_challenge): arc_challenge draws",
        lambda w: w.run_args(w.model_folder(), w.tmp / "out", "--tasks",
                             "shadow_arc_challenge_orig", "--preset", "open-llm-v1")),
    "compare a card with a field of the wrong type": Case(
        "error", "card/card.json: gap.n_boot: expected an integer",
        lambda w: _edited_card(w, _set_type)),
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
        # progress bars of lm-eval and transformers aside (an error during an evaluation)
        lines = [x for x in err.strip().splitlines() if x.strip() and not PROGRESS.search(x)]
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
