"""Report cards: one versioned JSON document per model, rendered to HTML and Markdown.

``build_card(results_dirs, spectra=...)`` -> :class:`Card`; ``write_card(card, out_dir)``
writes card.json, card.html and card.md; ``load_card(path)`` reads a card back (refusing
unknown schema versions); ``compare_cards`` puts several side by side. Schema: SCHEMA.md.
"""

from shadow_suite.report.card import CardPaths, build_card, card_from_results, write_card
from shadow_suite.report.schema import SCHEMA, SCHEMA_VERSION, Card, load_card
from shadow_suite.report.spectral import load_spectral_section, spectral_section

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "Card",
    "CardPaths",
    "build_card",
    "card_from_results",
    "load_card",
    "load_spectral_section",
    "spectral_section",
    "write_card",
]
