"""A synthetic knowledge world: seeded entities and facts, rendered as benchmark data folders
and training text, whose models' training we control (the known-truth population that
measures the verdict's error rates, and the demo)."""
