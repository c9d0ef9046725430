"""The verdict's measured error rates, as the package ships them: one typed, versioned
document (``error_rates.json`` beside this module) written by
``benchmarks/validity/run_validity.py`` from a population of models whose training is
known, and read by the card, which cites it next to every verdict.

One owner: this module defines the document and its loader; the validity benchmark writes
it with :func:`write_error_rates`, the report reads it with :func:`shipped_error_rates`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from shadow_suite import atomic
from shadow_suite.errors import ShadowSuiteError
from shadow_suite.typed_json import from_json

ERROR_RATES_VERSION = 1
SHIPPED = Path(__file__).resolve().parent / "error_rates.json"


@dataclass(frozen=True)
class MeasuredRate:
    """k of n members, with the Clopper-Pearson 95% interval."""

    k: int
    n: int
    ci_low: float
    ci_high: float

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None


@dataclass(frozen=True)
class ErrorRates:
    version: int
    """Schema version of this document (``ERROR_RATES_VERSION``)."""
    measured_on: str
    """Date of the population run (ISO, YYYY-MM-DD)."""
    world: str
    """One sentence: the models and data the rates were measured on."""
    limits: str
    """One sentence: what the measurement does not cover."""
    false_positive: MeasuredRate
    """Clean members called ``benchmark_specific`` against their base."""
    detection: MeasuredRate
    """Contaminated members called ``benchmark_specific``, among those whose orig accuracy
    rose by at least ``detection_min_gain`` over the base on some benchmark."""
    detection_min_gain: float
    """Orig accuracy gain (share) a contaminated member needs to count in ``detection``."""
    source: str
    """Where the full results live (a path in the repository)."""


def load_error_rates(path: Path) -> ErrorRates:
    """``path`` as an :class:`ErrorRates`; one line naming the file and field when it is not."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShadowSuiteError(f"{path}: not a readable error-rates file ({err})") from None
    version = raw.get("version") if isinstance(raw, dict) else None
    if version != ERROR_RATES_VERSION:
        raise ShadowSuiteError(
            f"{path}: version: {version!r}, this shadow-suite reads version {ERROR_RATES_VERSION}"
        )
    return from_json(ErrorRates, raw, str(path))


def shipped_error_rates() -> ErrorRates:
    """The error rates this release of the package was measured with."""
    return load_error_rates(SHIPPED)


def write_error_rates(rates: ErrorRates, path: Path = SHIPPED) -> None:
    atomic.write_json(path, asdict(rates))
