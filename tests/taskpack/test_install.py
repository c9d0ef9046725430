"""An installed wheel makes ``lm_eval`` find the pack with no ``--include_path``.

The wheel is installed into a fresh virtual environment whose only link to the test
environment is a plain path entry for its dependencies, so neither this checkout nor the
editable install is visible there: what lm-eval finds comes from the wheel.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(dist), str(REPO)],
        check=True,
    )  # fmt: skip
    (wheel,) = dist.glob("shadow_suite-*.whl")
    env_dir = tmp_path_factory.mktemp("wheel_env")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
         "--target", str(site), str(wheel)],
        check=True,
    )  # fmt: skip
    # Dependencies (lm-eval, torch ...) from the test environment, as a plain path: its
    # .pth files, ours included, are not processed there.
    deps = sysconfig.get_paths()["purelib"]
    (site / "zz_test_dependencies.pth").write_text(deps + "\n")
    return python


def run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600
    )


def test_wheel_ships_the_pack_and_the_hook(wheel_env: Path, tmp_path: Path) -> None:
    out = run(
        wheel_env,
        "-c",
        "import shadow_suite.taskpack.plugin as p; print(p.task_pack_dir())",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    pack = Path(out.stdout.strip())
    assert wheel_env.parent.parent in pack.parents, f"pack found outside the wheel: {pack}"
    assert (pack / "shadow_suite" / "shadow_suite.yaml").is_file()


def test_lm_eval_lists_the_pack_without_include_path(wheel_env: Path, tmp_path: Path) -> None:
    out = run(wheel_env, "-m", "lm_eval", "ls", "tasks", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    listed = out.stdout
    for name in ("shadow_suite", "shadow_mmlu", "shadow_mmlu_orig", "shadow_gsm8k_renumbered"):
        assert name in listed, name


def test_lm_eval_runs_a_pack_task_from_the_wheel(
    wheel_env: Path, tmp_path: Path, tiny_model: Path
) -> None:
    out = run(
        wheel_env, "-m", "lm_eval",
        "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
        "--tasks", "shadow_winogrande_orig", "--limit", "3",
        "--output_path", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert list((tmp_path / "out").glob("*/results_*.json"))
