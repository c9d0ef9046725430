"""A world written as a benchmark data folder, laid out like ``../shared/benchmarks``, so the
task pack, lm-eval and every gate and statistic read it exactly as they read the real data::

    <folder>/mmlu/test.jsonl            the evaluated MMLU-schema items
    <folder>/mmlu/validation.jsonl      their same-distribution twins
    <folder>/mmlu/dev.jsonl             few-shot examples (dev_per_subject per subject)
    <folder>/arc_challenge/test.jsonl   the evaluated ARC-schema items
    <folder>/arc_challenge/validation.jsonl
    <folder>/arc_challenge/train.jsonl  practice items (non-test), ARC's few-shot source
    <folder>/world.json                 the spec and the truth: every item's fact, split,
                                        whether prose states it

``world.json`` is the single source of truth for what a world is; :func:`load_world` rebuilds
the world from its spec and refuses a folder whose items no longer match (a generator change).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.variants.render import LETTERS
from shadow_suite.world.build import Item, World, build_world
from shadow_suite.world.catalogue import relation
from shadow_suite.world.spec import WorldSpec

WORLD_FILE = "world.json"
WORLD_VERSION = 1


def question_text(item: Item) -> str:
    return relation(item.fact.relation).question.format(e=item.fact.entity)


def mmlu_row(item: Item) -> dict[str, Any]:
    return {
        "subject": item.fact.relation,
        "question": question_text(item),
        "choices": list(item.options),
        "answer": item.gold,
    }


def arc_row(item: Item) -> dict[str, Any]:
    labels = list(LETTERS[: len(item.options)])
    return {
        "id": f"World_{item.split}_{item.row}",
        "question": question_text(item),
        "choices": {"text": list(item.options), "label": labels},
        "answerKey": labels[item.gold],
    }


def row_of(item: Item) -> dict[str, Any]:
    return mmlu_row(item) if item.benchmark == "mmlu" else arc_row(item)


def _item_record(item: Item) -> dict[str, Any]:
    return {
        "benchmark": item.benchmark,
        "split": item.split,
        "row": item.row,
        "entity": item.fact.entity,
        "relation": item.fact.relation,
        "value": item.fact.value,
        "options": list(item.options),
        "gold": item.gold,
        "known": item.known,
    }


def world_digest(world: World) -> str:
    """SHA-256 of the world's items and outsiders in a canonical form."""
    body = {
        "items": [_item_record(i) for i in world.items],
        "outsiders": [[f.entity, f.relation, f.value] for f in world.outsiders],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_world(world: World, folder: str | Path) -> Path:
    """The world's data files and ``world.json`` into ``folder`` (each written atomically)."""
    root = Path(folder)
    files: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in world.items:
        files.setdefault((item.benchmark, item.split), []).append(row_of(item))
    for (benchmark, split), rows in sorted(files.items()):
        atomic.write_jsonl(root / benchmark / f"{split}.jsonl", rows)
    atomic.write_json(
        root / WORLD_FILE,
        {
            "version": WORLD_VERSION,
            "spec": world.spec.record(),
            "digest": world_digest(world),
            "counts": {f"{b}/{s}": len(rows) for (b, s), rows in sorted(files.items())},
            "items": [_item_record(i) for i in world.items],
        },
    )
    return root


def load_world(folder: str | Path) -> World:
    """The world a folder was written from; one line when the folder is not one, was written by
    another schema version, or no longer matches what its spec builds."""
    path = Path(folder) / WORLD_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShadowSuiteError(
            f"{path}: missing; not a world folder (shadow-suite world)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{path}: not readable JSON ({err})") from None
    if not isinstance(raw, dict) or raw.get("version") != WORLD_VERSION:
        version = raw.get("version") if isinstance(raw, dict) else None
        raise ShadowSuiteError(
            f"{path}: version: {version!r}; this shadow-suite reads world version {WORLD_VERSION}"
        )
    try:
        spec = WorldSpec.from_record(raw["spec"])
    except (KeyError, TypeError) as err:
        raise ShadowSuiteError(f"{path}: spec: not a world spec ({err})") from None
    world = build_world(spec)
    if world_digest(world) != raw.get("digest"):
        raise ShadowSuiteError(
            f"{path}: digest: the items differ from what this shadow-suite builds from the "
            "spec (written by another version); write the world again"
        )
    return world


def ensure_world(spec: WorldSpec, folder: str | Path) -> World:
    """The world of ``spec`` in ``folder``: written when absent, reused when it matches, and
    refused in one line when the folder holds another world."""
    root = Path(folder)
    if (root / WORLD_FILE).is_file():
        world = load_world(root)
        if world.spec != spec:
            raise ShadowSuiteError(
                f"{root}: holds a world built from another spec; use another folder"
            )
        return world
    world = build_world(spec)
    write_world(world, root)
    return world
