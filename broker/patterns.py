"""Client-supplied regular expressions (idPattern, ``q`` ``~=``), matched in linear time.

Python's ``re`` backtracks: ``(a+)+$`` against 40 ``a`` never returns, and one such request
would hold the whole broker. RE2 (google-re2) guarantees time linear in the input and memory
bounded by ``max_mem``; the price is no back-references or look-around, which NGSI-LD's
idPattern (POSIX-style patterns, as Orion-LD matches them with regexec) does not need.
Patterns are unanchored (``search``) everywhere, as regexec matches them.
"""

from __future__ import annotations

from typing import Protocol

import re2

from .errors import BadRequestData

MAX_PATTERN_LENGTH = 1024  # characters; a pattern longer than any sane id is a mistake or an attack
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a client's typo is its error, answered as 400, not our log noise
_OPTIONS.never_capture = True  # only "does it match" is ever asked
_OPTIONS.max_mem = 8 << 20  # bytes of compiled program per pattern


class Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


def compile_pattern(text: str, what: str) -> Pattern:
    """Compile ``text`` with RE2, or raise BadRequestData saying which parameter is wrong and why."""
    if len(text) > MAX_PATTERN_LENGTH:
        raise BadRequestData(f"{what} '{text[:40]}…' is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        compiled: Pattern = re2.compile(text, _OPTIONS)
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise BadRequestData(f"{what} '{text}' is not a valid regular expression ({reason}; "
                             "back-references and look-around are not supported)") from None
    return compiled
