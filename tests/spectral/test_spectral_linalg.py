"""Singular values: Gram + eigvalsh against known spectra, and against a true SVD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from spectral_helpers import with_spectrum

from shadow_suite.spectral.linalg import (
    GRAM_RANGE,
    GRAM_RTOL,
    as_matrix,
    matrix_stats,
    nonfinite_counts,
)


@pytest.mark.parametrize(
    ("m", "n", "decades"),
    [(200, 120, 3), (120, 200, 6), (256, 256, 8), (300, 90, 12)],
)
def test_gram_recovers_known_spectrum(m: int, n: int, decades: int) -> None:
    rng = np.random.default_rng(m * n + decades)
    k = min(m, n)
    s = np.logspace(0, -decades, k) * 3.7  # ill-conditioned down to 1e-12
    w = torch.from_numpy(with_spectrum(rng, m, n, s))
    got = matrix_stats(w).singular_values
    assert got.shape == (k,)
    assert np.all(np.diff(got) <= 0)  # descending
    kept = s >= GRAM_RANGE * s[0]  # the stated accuracy range (help, README)
    np.testing.assert_allclose(got[kept], s[kept], rtol=GRAM_RTOL, atol=0)
    exact = matrix_stats(w, method="svd").singular_values
    np.testing.assert_allclose(exact[kept], s[kept], rtol=1e-12, atol=0)


def test_gram_and_exact_svd_agree_on_bf16_weights() -> None:
    gen = torch.Generator().manual_seed(1)
    w = (torch.randn(384, 160, generator=gen) * 0.02).to(torch.bfloat16)
    base = (w.float() + torch.randn(384, 160, generator=gen) * 1e-3).to(torch.bfloat16)
    gram = matrix_stats(w, base, noise_bits=8)
    exact = matrix_stats(w, base, method="svd", noise_bits=8)
    np.testing.assert_allclose(gram.singular_values, exact.singular_values, rtol=1e-10)
    np.testing.assert_allclose(gram.update_singular_values, exact.update_singular_values, rtol=1e-8)
    reference = np.linalg.svd(w.double().numpy(), compute_uv=False)
    np.testing.assert_allclose(gram.singular_values, reference, rtol=1e-10)
    assert gram.frobenius2 == pytest.approx(float((w.double() ** 2).sum()), rel=1e-12)
    assert gram.inner == pytest.approx(float((w.double() * base.double()).sum()), rel=1e-12)
    delta2 = float(((w.double() - base.double()) ** 2).sum())
    assert gram.update_frobenius2 == pytest.approx(delta2, rel=1e-10)
    assert exact.update_frobenius2 == pytest.approx(delta2, rel=1e-10)


def test_noise_estimate_is_sum_of_ulp_squares_over_12() -> None:
    values = torch.tensor([[1.0, 1.5, -3.0], [0.0, 0.25, 0.3]], dtype=torch.float64)
    stats = matrix_stats(values, values.clone(), noise_bits=8)
    # bf16 ulp: 2^(floor(log2|x|) - 7); zero contributes nothing
    ulps = [2.0**-7, 2.0**-7, 2.0**-6, 0.0, 2.0**-9, 2.0**-9]
    assert stats.noise_frobenius2 == pytest.approx(sum(u * u for u in ulps) / 12, rel=1e-12)


def test_block_streaming_matches_single_block(monkeypatch: pytest.MonkeyPatch) -> None:
    import shadow_suite.spectral.linalg as linalg

    gen = torch.Generator().manual_seed(2)
    w = torch.randn(500, 40, generator=gen, dtype=torch.float64)
    whole = matrix_stats(w).singular_values
    monkeypatch.setattr(linalg, "_BLOCK_ELEMENTS", 40 * 7)  # 7 rows per block, ragged end
    np.testing.assert_allclose(matrix_stats(w).singular_values, whole, rtol=1e-12)


def test_nd_rule_and_nonfinite_counts() -> None:
    conv = torch.zeros(8, 3, 2, 2)
    matrix, note = as_matrix(conv)
    assert tuple(matrix.shape) == (8, 12)
    assert note == "reshaped [8, 3, 2, 2] to 2-D"
    bad = torch.zeros(4, 4)
    bad[0, 0], bad[1, 1], bad[2, 2] = float("nan"), float("inf"), float("-inf")
    assert nonfinite_counts(bad) == (1, 2)
    assert nonfinite_counts(torch.ones(3, 3)) == (0, 0)
