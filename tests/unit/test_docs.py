"""The README stays true to the code: every setting is in its configuration table."""

from __future__ import annotations

from pathlib import Path

from citiesincharge.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text("utf-8")
    missing = [name for name in Settings.model_fields if f"`CIC_{name.upper()}`" not in text]
    assert missing == []
