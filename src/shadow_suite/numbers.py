"""Numbers on their way into JSON: one rule for a value that is not finite.

JSON has no NaN or infinity; every document the project writes (card, spectra, summaries)
stores such a value as null, through :func:`finite_or_none`.
"""

from __future__ import annotations

import math
from typing import SupportsFloat


def finite_or_none(value: SupportsFloat | None) -> float | None:
    """``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
