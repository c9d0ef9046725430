"""What a local model folder must hold before ``run`` hands it to lm-eval.

transformers and vLLM fail on a broken folder deep inside their loaders (a traceback about a
header, a tokenizer class, a state dict), or worse, load it: a ``config.json`` that asks for
more layers than the weights hold gets the missing ones randomly initialised, with a warning
nobody reads. So before any model is loaded: ``config.json`` is a readable JSON object that
transformers understands; a tokenizer is there (unless ``tokenizer=`` names another); the
safetensors files pass the spectral reader's checks (the format's every rule, the index
against its shards); and, for the hf backend, every weight the config asks for is in the
files with the shape the config gives it. Each failure is one line naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shadow_suite.errors import ShadowSuiteError
from shadow_suite.identity import identity_of, local_model_folder, short

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "vocab.txt",
    "tiktoken.model",
)
"""Files any one of which is a tokenizer transformers can load (``*.tiktoken`` too)."""


def check_model_folder(
    what: str, folder: Path, *, backend: str, model_args: dict[str, Any] | None = None
) -> None:
    """One line for a folder lm-eval's ``backend`` would fail on or load wrongly.

    ``what`` names the argument in the message (``--model_args pretrained=``, ``--base``);
    ``model_args``: the run's, whose ``tokenizer=`` may name the tokenizer elsewhere."""
    from shadow_suite.spectral.reader import open_checkpoint, weight_files

    args = model_args or {}
    label = f"{what}{folder}" if what.endswith("=") else f"{what} {folder}"
    config = _config(folder, label)
    if not args.get("tokenizer") and not _has_tokenizer(folder):
        raise ShadowSuiteError(
            f"{label}: no tokenizer ({', '.join(TOKENIZER_FILES[:3])} ...); save the model's "
            "tokenizer into the folder, or name one with tokenizer=... in --model_args"
        )
    files, _ = weight_files(folder)
    if not files:
        return  # pickle weights (or none): their loader is lm-eval's; nothing is unpickled here
    checkpoint = open_checkpoint(folder)  # every header checked; no tensor read
    if backend == "hf" and "auto_map" not in config:
        _check_weights_fit_config(folder, label, checkpoint.tensors, args)


def _config(folder: Path, label: str) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShadowSuiteError(f"{label}: no config.json; not a model folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise ShadowSuiteError(f"{path}: not a JSON object")
    return config


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / name).is_file() for name in TOKENIZER_FILES) or any(
        folder.glob("*.tiktoken")
    )


def _check_weights_fit_config(
    folder: Path, label: str, tensors: Any, model_args: dict[str, Any]
) -> None:
    """Every weight of the model transformers builds from config.json must be in the files,
    shaped as the config says (else it is randomly initialised, or the load fails). The
    skeleton is built on the meta device: no memory, about a second."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config_path = folder / "config.json"
    try:
        config = AutoConfig.from_pretrained(str(folder))
    except Exception as err:  # transformers' own reading of the file: any error is the file's
        first = str(err).splitlines()[0] if str(err) else ""
        raise ShadowSuiteError(
            f"{config_path}: transformers cannot read it ({type(err).__name__}: {first})"
        ) from None
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except Exception as err:
        if "Unrecognized configuration class" in str(err):
            return  # not a causal LM (a seq2seq model ...): lm-eval builds it its own way
        first = str(err).splitlines()[0] if str(err) else ""
        raise ShadowSuiteError(
            f"{config_path}: transformers cannot build the model it describes "
            f"({type(err).__name__}: {first})"
        ) from None
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    stored = {info.name: tuple(info.shape) for info in tensors}
    if not set(expected) & set(stored):
        return  # other names than transformers' (a prefix it maps): nothing to compare
    for name in sorted(set(expected) & set(stored)):
        if expected[name] != stored[name]:
            raise ShadowSuiteError(
                f"{label}: config.json and the weights disagree: {name} is "
                f"{list(stored[name])} in the files, {list(expected[name])} by config.json"
            )
    tied = set(getattr(model, "all_tied_weights_keys", None) or {})
    missing = sorted(set(expected) - set(stored) - tied)
    if missing:
        raise ShadowSuiteError(
            f"{label}: config.json asks for weights the files do not hold ({missing[0]}, "
            f"{len(missing)} in all); they would be randomly initialised"
        )


def check_model_folders(
    backend: str, model_args: dict[str, Any], weights: str | None, base: str | None
) -> None:
    """The local folders ``run`` will evaluate (``pretrained=`` of ``model_args``, and
    ``base`` when given), each checked by :func:`check_model_folder`; and ``--weights`` given
    beside a local model must hold that model's files (one card describes one model)."""
    revision = model_args.get("revision")
    pretrained = str(model_args["pretrained"])
    folder = local_model_folder(pretrained, revision)
    if folder is not None:
        check_model_folder("--model_args pretrained=", folder, backend=backend,
                           model_args=model_args)  # fmt: skip
    base_folder = local_model_folder(base, revision) if base else None
    if base_folder is not None:
        check_model_folder("--base", base_folder, backend=backend, model_args=model_args)
    if weights and folder is not None:
        ours, theirs = identity_of(folder), identity_of(weights)
        if theirs is not None and ours != theirs:
            raise ShadowSuiteError(
                f"--weights {weights} holds other files than --model_args pretrained={pretrained} "
                f"(model identity {short(theirs)} vs {short(ours)}): one card describes one "
                "model; drop --weights, or point it at the evaluated model's folder"
            )
