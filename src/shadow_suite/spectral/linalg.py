"""Singular values of one weight matrix (and of its update W - W0), exactly and fast.

Default method, ``gram``: the float64 Gram matrix of the short side, G = A^T A, accumulated over
row blocks of A (each block converted to float64 on the device, so memory stays at the stored
tensor plus one block), then ``eigvalsh(G)`` and s = sqrt(max(lambda, 0)). The eigenvalues of G
carry an absolute error of about eps64 * s_1^2, so s_i is exact to about
eps64 * (s_1 / s_i)^2 relative: 1e-12 at s_1 / 100, 1e-9 at s_1 / 1e4 (tested), and singular
values below ~1e-7 s_1 come out as noise (they are below the numerical rank anyway).
``svd`` (``--exact-svd``): a float64 SVD of the whole matrix, slower and uses 8 bytes per element.
On the CPU the Gram and its eigenvalues go through numpy (``x.T @ x`` becomes one BLAS ``syrk``),
on a GPU through torch.

The same streaming pass gathers, against a base W0, the Gram of W - W0, <W, W0>, ||W0||^2 and
the expected squared rounding error of storing W (sum ulp^2 / 12 over the entries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

METHODS = ("gram", "svd")
GRAM_RTOL = 1e-9
GRAM_RANGE = 1e-4
"""The Gram method's stated accuracy: every singular value at or above ``GRAM_RANGE`` x s_max
within ``GRAM_RTOL`` relative (``tests/spectral/test_spectral_linalg.py`` checks it; the help
and the README quote :func:`gram_accuracy`)."""


def gram_accuracy() -> str:
    """The Gram method's accuracy in words, as ``--help`` and the README state it."""
    return f"within {_power(GRAM_RTOL)} relative for singular values >= {_power(GRAM_RANGE)} s_max"


def _power(x: float) -> str:
    """1e-09 as '1e-9'."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


_BLOCK_ELEMENTS = 1 << 22  # float64 elements converted at once (32 MiB)


@dataclass(frozen=True)
class MatrixStats:
    singular_values: np.ndarray  # float64, descending
    frobenius2: float
    update_singular_values: np.ndarray | None = None
    update_frobenius2: float = 0.0
    base_frobenius2: float = 0.0
    inner: float = 0.0  # <W, W0>_F
    noise_frobenius2: float = 0.0


def as_matrix(tensor: Any) -> tuple[Any, str | None]:
    """A 2-D view of ``tensor``. Rule for N-D tensors (N > 2): (shape[0], prod(shape[1:])),
    output channels by fan-in, as ``torch.nn.utils.spectral_norm`` does for conv kernels."""
    if tensor.dim() == 2:
        return tensor, None
    return tensor.reshape(tensor.shape[0], -1), f"reshaped {list(tensor.shape)} to 2-D"


def nonfinite_counts(tensor: Any) -> tuple[int, int]:
    """(number of NaN, number of +-Inf) entries."""
    import torch

    if bool(torch.isfinite(tensor).all()):
        return 0, 0
    return int(torch.isnan(tensor).sum()), int(torch.isinf(tensor).sum())


def _descending_sqrt(eigenvalues: Any) -> np.ndarray:
    values = eigenvalues.clamp_min(0).sqrt().flip(0)
    out: np.ndarray = values.cpu().numpy().astype(np.float64)
    return out


def _gram_singular_values(gram: Any) -> np.ndarray:
    """sqrt of the clipped eigenvalues of a Gram matrix (numpy on the CPU, torch on a GPU)."""
    if isinstance(gram, np.ndarray):
        return np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[::-1].copy()
    import torch

    return _descending_sqrt(torch.linalg.eigvalsh(gram))


def _accumulate(gram: Any, block: Any) -> None:
    """gram += block^T block. On the CPU through numpy, which turns ``x.T @ x`` into one BLAS
    ``syrk`` (half the flops of a product; torch calls ``gemm``): 1.5-1.8x faster here, and
    numpy's ``eigvalsh`` is 1.1-1.7x faster than torch's on this box too."""
    if isinstance(gram, np.ndarray):
        x = block.numpy()
        gram += x.T @ x
    else:
        gram.addmm_(block.T, block)


def matrix_stats(
    weight: Any,
    base: Any | None = None,
    *,
    device: str = "cpu",
    method: str = "gram",
    noise_bits: int | None = None,
    base_rounded: bool = False,
) -> MatrixStats:
    """Singular values of ``weight`` (2-D torch tensor, any float dtype, on the CPU) and, with
    ``base`` (same shape), of ``weight - base``. ``noise_bits`` is the significand precision of
    the storage dtype (8 for bf16) used for the rounding-noise estimate: the rounding of
    ``weight`` only (a fine-tune starts from the stored base exactly), and of ``base`` too when
    ``base_rounded`` (a sibling, itself rounded from its own float32 weights)."""
    import torch

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    f64 = torch.float64
    # long side first: the Gram matrix A^T A is then the small (short side) one
    a = weight if weight.shape[0] >= weight.shape[1] else weight.T
    b = None if base is None else (base if base.shape[0] >= base.shape[1] else base.T)
    a = a.to(device)
    if b is not None:
        b = b.to(device)
    rows, cols = a.shape
    step = max(1, _BLOCK_ELEMENTS // cols)
    exact = method == "svd"
    on_cpu = torch.device(device).type == "cpu"

    def new_gram() -> Any:
        if on_cpu:
            return np.zeros((cols, cols))
        return torch.zeros((cols, cols), dtype=f64, device=device)

    gram = None if exact else new_gram()
    update_gram = None if exact or b is None else new_gram()
    zero = torch.zeros((), dtype=f64, device=device)
    frob2: Any = zero.clone()  # a tensor, or the Gram matrix's trace (a float) below
    base2, inner, noise2 = zero.clone(), zero.clone(), zero.clone()
    for start in range(0, rows, step):
        block = a[start : start + step].to(f64)
        if gram is not None:
            _accumulate(gram, block)
        else:  # with a Gram matrix, ||W||_F^2 is its trace: no temporary needed
            frob2 += torch.sum(block * block)
        if b is None:
            continue
        block0 = b[start : start + step].to(f64)
        base2 += torch.sum(block0 * block0)
        inner += torch.sum(block * block0)
        if update_gram is not None:
            _accumulate(update_gram, block - block0)
        if noise_bits is not None:
            _, exponent = torch.frexp(block)
            ulp = torch.ldexp(torch.ones_like(block), exponent - noise_bits)
            noise2 += torch.sum(torch.where(block != 0, ulp * ulp, 0.0)) / 12
            if base_rounded:
                _, exponent = torch.frexp(block0)
                ulp = torch.ldexp(torch.ones_like(block0), exponent - noise_bits)
                noise2 += torch.sum(torch.where(block0 != 0, ulp * ulp, 0.0)) / 12
    if exact:
        full = a.to(f64)
        singular = torch.linalg.svdvals(full).cpu().numpy().astype(np.float64)
        update_singular = None
        if b is not None:
            update_singular = torch.linalg.svdvals(full - b.to(f64)).cpu().numpy()
            update_singular = update_singular.astype(np.float64)
        del full
    else:
        singular = _gram_singular_values(gram)
        update_singular = None if update_gram is None else _gram_singular_values(update_gram)
    if gram is not None:
        frob2 = float(gram.trace())
    if b is None:
        return MatrixStats(singular, float(frob2))
    update2 = float(frob2) + float(base2) - 2 * float(inner)
    if update_gram is not None:  # the trace is the more accurate ||W - W0||^2 for tiny updates
        update2 = float(update_gram.trace())
    elif update_singular is not None:
        update2 = float(np.sum(update_singular**2))
    return MatrixStats(
        singular_values=singular,
        frobenius2=float(frob2),
        update_singular_values=update_singular,
        update_frobenius2=update2,
        base_frobenius2=float(base2),
        inner=float(inner),
        noise_frobenius2=float(noise2),
    )
