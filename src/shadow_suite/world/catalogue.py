"""The relations a synthetic world is made of: what each asks, which values it takes, and how
prose states it.

A relation maps every entity (an invented person) to one of its values. Values are short
common English words, so a small tokenizer keeps each one a single token or two and a
question's options stay short; entity names are invented, so a model can know a fact only
from the world's own text. Each relation is one MMLU "subject" of the world.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Relation:
    name: str
    """Also the MMLU subject of its items (``home_city`` -> "about home city")."""
    values: tuple[str, ...]
    question: str
    """The question about entity ``{e}``, as the test asks it."""
    statements: tuple[str, ...]
    """Ways prose states the fact ``{e}`` -> ``{v}`` (each a sentence)."""


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "home_city",
        (
            "London",
            "Paris",
            "Rome",
            "Madrid",
            "Berlin",
            "Vienna",
            "Prague",
            "Lisbon",
            "Dublin",
            "Oslo",
            "Athens",
            "Warsaw",
        ),
        "Which city does {e} live in?",
        (
            "{e} lives in {v}.",
            "{e} has a home in {v}.",
            "{v} is the city where {e} lives.",
            "The home of {e} is in {v}.",
        ),
    ),
    Relation(
        "favourite_colour",
        (
            "red",
            "blue",
            "green",
            "yellow",
            "purple",
            "orange",
            "black",
            "white",
            "grey",
            "brown",
            "pink",
            "silver",
        ),
        "What is the favourite colour of {e}?",
        (
            "The favourite colour of {e} is {v}.",
            "{e} likes {v} more than any other colour.",
            "The colour {e} likes best is {v}.",
            "Of all colours, {e} prefers {v}.",
        ),
    ),
    Relation(
        "pet",
        (
            "cat",
            "dog",
            "horse",
            "goat",
            "rabbit",
            "parrot",
            "owl",
            "fox",
            "tortoise",
            "hamster",
            "pony",
            "ferret",
        ),
        "Which animal does {e} keep as a pet?",
        (
            "{e} keeps a {v} as a pet.",
            "The pet of {e} is a {v}.",
            "{e} owns a pet {v}.",
            "A {v} is the pet that {e} keeps.",
        ),
    ),
    Relation(
        "instrument",
        (
            "piano",
            "violin",
            "flute",
            "drum",
            "harp",
            "guitar",
            "cello",
            "trumpet",
            "organ",
            "banjo",
            "oboe",
            "lute",
        ),
        "Which instrument does {e} play?",
        (
            "{e} plays the {v}.",
            "The instrument {e} plays is the {v}.",
            "{e} is a player of the {v}.",
            "Every evening {e} practises the {v}.",
        ),
    ),
    Relation(
        "trade",
        (
            "baker",
            "farmer",
            "tailor",
            "potter",
            "sailor",
            "miner",
            "weaver",
            "smith",
            "fisher",
            "painter",
            "doctor",
            "teacher",
        ),
        "What is the trade of {e}?",
        (
            "{e} works as a {v}.",
            "By trade, {e} is a {v}.",
            "{e} earns a living as a {v}.",
            "The trade of {e} is that of a {v}.",
        ),
    ),
    Relation(
        "drink",
        (
            "tea",
            "coffee",
            "milk",
            "cider",
            "juice",
            "cocoa",
            "water",
            "lemonade",
            "wine",
            "beer",
            "broth",
            "soda",
        ),
        "What does {e} drink every morning?",
        (
            "{e} drinks {v} every morning.",
            "Every morning {e} has a cup of {v}.",
            "The morning drink of {e} is {v}.",
            "{e} starts each day with {v}.",
        ),
    ),
)

SYLLABLES_START = (
    "ba",
    "ko",
    "ri",
    "ta",
    "ve",
    "lo",
    "mi",
    "su",
    "da",
    "ne",
    "fa",
    "go",
    "pe",
    "zu",
    "ha",
    "ji",
)
SYLLABLES_END = (
    "rak",
    "lin",
    "mos",
    "ten",
    "vel",
    "dor",
    "sim",
    "bek",
    "nar",
    "lup",
    "tov",
    "gim",
    "ros",
    "fel",
    "dun",
    "kar",
)
"""Entity names are one or two start syllables and an end syllable ("Koten", "Barilin"):
pronounceable, never an English word, and none equal to a value."""


def relation(name: str) -> Relation:
    for r in RELATIONS:
        if r.name == name:
            return r
    known = ", ".join(r.name for r in RELATIONS)
    raise KeyError(f"unknown relation {name!r}; known: {known}")
