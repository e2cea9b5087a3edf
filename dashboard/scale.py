"""The colour scale of plan scores: five fixed classes of 20 points, light (build later) to dark
(build sooner), from viridis.

Why fixed classes and viridis: a council compares maps over time, so a score must keep its colour
from one plan run to the next (not stretched to this run's lowest and highest); five classes are
told apart at a glance and match the legend exactly; viridis is readable with the common colour
vision deficiencies and still ordered when printed in grey. The map outlines every area in a dark
line, so even the lightest class stands out 3:1 from the background, and the score is also written
(rank labels, table, panel): colour is never the only way to read it.
"""

from __future__ import annotations

from dataclasses import dataclass

UNSCORED = "hatch"  # the fill of an area without a score: hatched grey (the page carries the pattern)


@dataclass(frozen=True)
class Band:
    key: str  # "60-80": the legend's and the tests' handle
    low: float
    high: float
    colour: str

    @property
    def label(self) -> str:
        return f"{self.low:.0f}\N{EN DASH}{self.high:.0f}"


BANDS = tuple(Band(f"{low}-{low + 20}", low, low + 20, colour)
              for low, colour in zip(range(0, 100, 20), ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"),
                                     strict=True))


def band_of(score: float) -> Band:
    """The class a score falls in: [low, high), the last one closed (100 is in 80-100)."""
    for band in BANDS:
        if score < band.high:
            return band
    return BANDS[-1]


def fill(score: float | None) -> str:
    return UNSCORED if score is None else band_of(score).colour
