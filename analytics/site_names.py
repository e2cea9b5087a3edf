"""Site and station names as exports spell them: variants of one name, and test sites.

Exports are typed by people over years: "Broxden Park & Ride" and "Broxden Park & Ride, Perth"
are one car park, and "***TEST SITE***" is a commissioning bay, not demand. Neither is merged
or dropped silently: variants are reported so the council can fix its data, test sites are flagged
(and kept out of network totals, which they would inflate).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

_TEST = re.compile(r"\btest(ing)?\b", re.IGNORECASE)


def is_test(name: str) -> bool:
    """A test or commissioning site (``***TEST SITE***``, ``Test charger 2``)."""
    return bool(_TEST.search(name))


def _base(name: str) -> str:
    """The name without what follows its first comma (a town, a postcode), case, ``&`` and punctuation."""
    head = name.split(",", 1)[0].lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", head).split())


def variants(names: Iterable[str]) -> list[list[str]]:
    """Groups of distinct names that look like one place (same base name), each sorted."""
    groups: dict[str, set[str]] = defaultdict(set)
    for name in names:
        if name.strip():
            groups[_base(name)].add(name)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)
