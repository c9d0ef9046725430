"""Report cards: one versioned JSON document per model, rendered to HTML and Markdown.

``build_card(results_dirs, spectra=...)`` -> :class:`Card`; ``write_card(card, out_dir)``
writes card.json, card.html and card.md; ``load_card(path)`` reads a card back (refusing
unknown schema versions); ``write_comparison(cards, out_dir)`` puts several side by side.
The schema is documented in SCHEMA.md next to this file. Names are imported lazily so the
CLI's --help does not load numpy, scipy or pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CardPaths": "shadow_suite.report.card",
    "build_card": "shadow_suite.report.card",
    "card_from_results": "shadow_suite.report.card",
    "write_card": "shadow_suite.report.card",
    "SCHEMA": "shadow_suite.report.schema",
    "SCHEMA_VERSION": "shadow_suite.report.schema",
    "Card": "shadow_suite.report.schema",
    "load_card": "shadow_suite.report.schema",
    "load_spectral_section": "shadow_suite.report.spectral",
    "spectral_section": "shadow_suite.report.spectral",
    "write_comparison": "shadow_suite.report.compare",
    "comparison_table": "shadow_suite.report.compare",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
