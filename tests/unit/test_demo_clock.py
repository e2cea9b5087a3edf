"""The demo's clock goes on from its stored data across restarts; --fresh and a broken file start over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from citiesincharge import demo_clock

NOW = datetime(2026, 12, 4, 21, 30, 15, 123456, tzinfo=UTC)


def test_a_new_town_starts_now_with_its_history_before(tmp_path: Path) -> None:
    town, note = demo_clock.begin(tmp_path, 91, fresh=False, now=NOW)
    assert town.reached == NOW.replace(microsecond=0) and town.history == timedelta(days=91)
    assert "new simulated town" in note


def test_a_restart_continues_where_the_last_run_got_to(tmp_path: Path) -> None:
    town, _ = demo_clock.begin(tmp_path, 91, fresh=False, now=NOW)
    ahead = NOW + timedelta(hours=22)  # 22 simulated minutes of wall time at 60x
    demo_clock.save(tmp_path, demo_clock.advanced(town, ahead))
    again, note = demo_clock.begin(tmp_path, 91, fresh=False, now=NOW + timedelta(minutes=30))
    assert again.reached == ahead.replace(microsecond=0) and again.origin == town.origin  # the same past
    assert "continuing" in note and "--fresh" in note
    assert demo_clock.advanced(again, NOW).reached == again.reached  # the clock never goes back


def test_fresh_and_unreadable_start_over(tmp_path: Path) -> None:
    town, _ = demo_clock.begin(tmp_path, 7, fresh=False, now=NOW)
    demo_clock.save(tmp_path, town)
    (tmp_path / "broker.sqlite").write_bytes(b"x")
    (tmp_path / "broker.sqlite-wal").write_bytes(b"x")
    (tmp_path / "mqtt").mkdir()
    (tmp_path / "keep.txt").write_text("not the demo's")
    later = NOW + timedelta(days=3)
    assert demo_clock.begin(tmp_path, 7, fresh=True, now=later)[0].reached == later.replace(microsecond=0)
    removed = {p.name for p in demo_clock.forget(tmp_path)}
    assert removed == {"broker.sqlite", "broker.sqlite-wal", "mqtt", "demo-clock.json"}
    assert (tmp_path / "keep.txt").exists()
    (tmp_path / "demo-clock.json").write_text("{not json")
    town, note = demo_clock.begin(tmp_path, 7, fresh=False, now=later)
    assert "unreadable" in note and town.reached == later.replace(microsecond=0)
