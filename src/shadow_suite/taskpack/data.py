"""Benchmark data: a local folder when configured, else the hub datasets lm-eval uses.

Local layout (as in ../shared/benchmarks): ``<data_dir>/<benchmark>/<split>.jsonl``, rows in
the upstream order, so a row's index is a stable document id. The folder comes from an
explicit argument, else ``--metadata '{"shadow_data": DIR}'`` on the lm-eval command line,
else the ``SHADOW_SUITE_DATA`` environment variable. Without one, rows come from the
Hugging Face hub (the same datasets lm-eval's own tasks load).

Every row is checked against its benchmark's fields (``benchmarks.ROW_FIELDS``) when the
split is read: a row that lacks one or holds a bad value is fatal, one line naming the file (or
hub dataset) and the row; never skipped, which would silently change the item set and shift
every document id after it.

Every split that is read gets a :class:`DataSource` with the SHA-256 of its bytes, so a
report can cite exactly which data it scored. Hub rows are hashed in the canonical JSONL
form that ``shadow-suite data download`` writes, so a downloaded folder hashes the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shadow_suite import atomic
from shadow_suite.contract import DATA_ENV
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.taskpack.suite import BENCHMARKS, get_benchmark, row_problem


class MissingSplit(ShadowSuiteError):
    """A split that is not there: no file in the local folder, or the hub could not load it
    (a malformed row is a plain ShadowSuiteError). Callers may do without an optional split
    (``Benchmark.train_split``) on this error only."""


# Splits that exist only as local files (no hub dataset that lm-eval uses holds them).
LOCAL_ONLY_SPLITS = {("gsm8k", "test_rephrased")}


@dataclass(frozen=True)
class DataSource:
    benchmark: str
    split: str
    location: str
    """The file read, or ``hub:<path>[/<name>]:<split>``."""
    sha256: str
    rows: int


def resolve_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The local data folder in force, or None to use the hub. Fails if one is set but missing."""
    chosen = explicit if explicit not in (None, "") else os.environ.get(DATA_ENV) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        origin = "data folder" if explicit else f"${DATA_ENV}"
        raise ShadowSuiteError(f"{origin} {chosen!r} is not a folder")
    return path


HUB_PROBE_TIMEOUT_S = 5.0


def hub_unreachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """Why the hub datasets cannot be fetched now, from one quick request to the hub's
    endpoint (HF_ENDPOINT and proxies honoured), or None when it answers. Offline mode is
    not probed: the datasets library then reads its cache, or fails at once by itself.

    The datasets library retries an unreachable hub for half a minute before it gives up;
    this lets ``run`` say so in one line before that (and before any model is loaded)."""
    from huggingface_hub import constants

    flags = (os.environ.get(name, "").upper() for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
    if constants.HF_HUB_OFFLINE or any(f in ("1", "ON", "YES", "TRUE") for f in flags):
        return None
    from huggingface_hub.utils import get_session

    try:
        get_session().head(constants.ENDPOINT, timeout=timeout)
    except Exception as err:  # DNS, refused, timeout, proxy: all say "cannot reach"
        first = str(err).splitlines()[0] if str(err) else ""
        return f"{constants.ENDPOINT} cannot be reached ({type(err).__name__}: {first[:120]})"
    return None


def load_split(
    benchmark: str, split: str, data_dir: str | Path | None = None
) -> tuple[list[dict[str, Any]], DataSource]:
    """Rows of one split of one benchmark and where they came from."""
    bench = get_benchmark(benchmark)
    if split not in bench.local_splits:
        raise ShadowSuiteError(
            f"{benchmark} has no split {split!r}; known: {', '.join(bench.local_splits)}"
        )
    folder = resolve_data_dir(data_dir)
    if folder is not None:
        path = folder / benchmark / f"{split}.jsonl"
        if not path.is_file():
            raise MissingSplit(f"missing data file {path} (benchmark {benchmark}, split {split})")
        stat = path.stat()
        return _read_jsonl(str(path), stat.st_mtime_ns, stat.st_size)
    if (benchmark, split) in LOCAL_ONLY_SPLITS:
        raise ShadowSuiteError(
            f"{benchmark}/{split}.jsonl exists only as a local file; set {DATA_ENV} to a data "
            "folder that holds it (see README, 'Data')"
        )
    return _read_hub(benchmark, split)


@lru_cache(maxsize=32)
def _read_jsonl(path: str, _mtime_ns: int, _size: int) -> tuple[list[dict[str, Any]], DataSource]:
    # mtime and size are part of the cache key so an edited file is read again. Split on
    # "\n" only: str.splitlines() also breaks at U+2028 inside JSON strings (MMLU has some).
    raw = Path(path).read_bytes()
    rows: list[dict[str, Any]] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_number = raw.count(b"\n", 0, err.start) + 1
        packed = " (gzip-compressed? give the plain .jsonl)" if raw[:2] == b"\x1f\x8b" else ""
        raise ShadowSuiteError(
            f"{path}, line {line_number}: not UTF-8 text (byte 0x{raw[err.start]:02x}){packed}"
        ) from None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ShadowSuiteError(f"{path}, line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise ShadowSuiteError(f"{path}, line {number}: expected a JSON object")
        problem = row_problem(Path(path).parent.name, Path(path).stem, row)
        if problem is not None:
            raise ShadowSuiteError(f"{path}, line {number}: {problem}")
        rows.append(row)
    parts = Path(path).parts
    source = DataSource(
        benchmark=parts[-2],
        split=Path(path).stem,
        location=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        rows=len(rows),
    )
    return rows, source


def canonical_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


@lru_cache(maxsize=32)
def _read_hub(benchmark: str, split: str) -> tuple[list[dict[str, Any]], DataSource]:
    import datasets

    bench = BENCHMARKS[benchmark]
    try:
        dataset = datasets.load_dataset(bench.hub_path, bench.hub_name, split=split)
    except Exception as err:  # network, offline mode, missing split: one line, with the fix
        raise MissingSplit(
            f"cannot load {benchmark}/{split} from the hub ({bench.hub_path}): "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}; "
            f"offline, set {DATA_ENV} to a local data folder"
        ) from None
    rows = [dict(row) for row in dataset]
    name = f"{bench.hub_path}/{bench.hub_name}" if bench.hub_name else bench.hub_path
    for number, row in enumerate(rows):
        problem = row_problem(benchmark, split, row)
        if problem is not None:
            raise ShadowSuiteError(
                f"hub dataset {name}, split {split}, row index {number}: {problem}"
            )
    source = DataSource(
        benchmark=benchmark,
        split=split,
        location=f"hub:{name}:{split}",
        sha256=hashlib.sha256(canonical_jsonl(rows)).hexdigest(),
        rows=len(rows),
    )
    return rows, source


def manifest(data_dir: str | Path | None = None) -> list[DataSource]:
    """Sources of every split of every benchmark that is available (an optional training or
    twin split that is not there is left out)."""
    sources = []
    for bench in BENCHMARKS.values():
        for split in bench.local_splits:
            try:
                sources.append(load_split(bench.name, split, data_dir)[1])
            except MissingSplit:
                if split not in (bench.train_split, bench.twin_split):
                    raise
    return sources


def download(out_dir: str | Path, benchmarks: list[str] | None = None) -> list[DataSource]:
    """Write the hub copies into ``out_dir`` in the local layout, for later offline runs: the
    evaluated splits, the few-shot splits and the training splits few-shot examples are drawn
    from (``Benchmark.train_split``)."""
    out = Path(out_dir)
    written = []
    for name in benchmarks or list(BENCHMARKS):
        for split in get_benchmark(name).local_splits:
            if (name, split) in LOCAL_ONLY_SPLITS:
                continue
            rows, _ = _read_hub(name, split)
            target = out / name / f"{split}.jsonl"
            atomic.write_bytes(target, canonical_jsonl(rows))
            stat = target.stat()
            written.append(_read_jsonl(str(target), stat.st_mtime_ns, stat.st_size)[1])
    return written


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="show the benchmark data in use (files and SHA-256) or download it for offline use",
    )
    actions = parser.add_subparsers(dest="data_action", required=True)
    show = actions.add_parser("hashes", help="list each data file with its rows and SHA-256")
    show.add_argument("--data", help=f"local data folder (default: ${DATA_ENV}, else the hub)")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=_cmd_hashes)
    fetch = actions.add_parser("download", help="copy the hub datasets into a local folder")
    fetch.add_argument("out", help="folder to write <benchmark>/<split>.jsonl into")
    fetch.add_argument("--benchmarks", nargs="*", choices=list(BENCHMARKS))
    fetch.set_defaults(func=_cmd_download)


def _cmd_hashes(args: argparse.Namespace) -> int:
    sources = manifest(args.data)
    if args.json:
        print(json.dumps([asdict(s) for s in sources], indent=2))
    else:
        for s in sources:
            print(f"{s.benchmark:14} {s.split:15} {s.rows:6}  {s.sha256}  {s.location}")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    for s in download(args.out, args.benchmarks):
        print(f"wrote {s.location} ({s.rows} rows, sha256 {s.sha256[:12]}...)")
    print(
        "gsm8k/test_rephrased.jsonl is not on the hub: copy it from a shadow-suite data folder "
        "(see README, 'Data')"
    )
    return 0


def missing_examples(
    benchmark: str, n: int, available: int, data_dir: str | None, flag: str = "--num_fewshot"
) -> str:
    """One line for ``--num_fewshot n`` when the few-shot split has fewer than ``n``
    examples (none: the split is not there), saying where to put one. ``flag``: what asked
    for the examples (``--preset NAME`` names itself, not a flag the user never gave)."""
    bench = get_benchmark(benchmark)
    asked = f"{flag} {n}" if flag == "--num_fewshot" else f"{flag} ({n}-shot {benchmark})"
    split = bench.train_split or bench.fewshot_split or "train"
    try:
        folder = resolve_data_dir(data_dir)
    except ShadowSuiteError:
        folder = None
    path = f"{folder or '<data>'}/{benchmark}/{split}.jsonl"
    if available:
        where = path if folder is not None else f"hub {bench.hub_path}"
        return (
            f"{asked}: {benchmark}'s {split} split ({where}) has only {available} "
            f"examples; ask for fewer"
        )
    if folder is not None:
        missing, put = f"{path} is missing", "put the split there"
    else:
        missing = f"the hub dataset {bench.hub_path} did not load"
        put = f"put the split at {path} with {DATA_ENV}=<data>"
    return (
        f"{asked}: {benchmark} draws few-shot examples from its {split} split, and "
        f"{missing}: {put} (the same fields as {bench.eval_split}.jsonl; `shadow-suite data "
        f"download DIR` writes it), or run without {flag.split()[0]}"
    )
