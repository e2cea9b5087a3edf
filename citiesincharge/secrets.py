"""Secrets from the environment or from a file, re-read when the file changes.

Reading the file on use (cached by modification time) is what lets a token rotate without a
restart. Secrets are held as pydantic ``SecretStr`` so that no repr or log line shows them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pydantic import SecretStr

_cache: dict[Path, tuple[float, SecretStr]] = {}
_lock = threading.Lock()


def resolve_secret(value: SecretStr | None, file: Path | None) -> SecretStr | None:
    """The file's content (stripped) when a file is configured, else the direct value."""
    if file is None:
        return value
    mtime = os.stat(file).st_mtime
    with _lock:
        hit = _cache.get(file)
        if hit and hit[0] == mtime:
            return hit[1]
        secret = SecretStr(file.read_text("utf-8").strip())
        _cache[file] = (mtime, secret)
        return secret
