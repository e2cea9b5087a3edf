"""Forecast retraining benchmark: 1,000 stations with one year of hourly history each.

For every station: the rolling-origin back-test of the hourly candidates (3 recent origins), the
choice, the final fit and the 48-hour forecast with its calibrated interval, exactly as the demand
worker and ``cic forecast`` do.
Spread over the machine's cores with a process pool. Target: under 2 minutes on this machine.
"""

from __future__ import annotations

import os

# One BLAS thread per process: the pool already uses every core, more threads only fight over them.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from analytics.forecasting import forecast


def station_history(seed: int, hours: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-06", periods=hours, freq="h", tz="UTC")
    hour = index.hour.to_numpy()
    busy = rng.uniform(0.3, 2.0)
    rate = busy * (0.5 + 2.0 * np.exp(-((hour - 9) ** 2) / 8) + 1.5 * np.exp(-((hour - 18) ** 2) / 6)) \
        * np.where(index.day_of_week < 5, 1.0, 0.7)
    return pd.Series(rng.poisson(rate), index=index, dtype=float)


def one(seed: int, hours: int) -> tuple[str, float, float]:
    result = forecast(station_history(seed, hours), "hourly", name=f"S{seed}")
    return result.model, result.scores[result.model].mase, result.scores["seasonalNaive"].mase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24 * 365)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one, range(args.stations), [args.hours] * args.stations, chunksize=10))
    elapsed = time.perf_counter() - started
    models = Counter(model for model, _, _ in results)
    print(f"""
Forecast retraining: {args.stations:,} stations x {args.hours:,} hourly points, {args.workers} processes
  back-test (3 origins) + choice + fit + 48 h forecast: {elapsed:.1f} s ({elapsed / args.stations * 1000:.0f} ms per \
station)   target < 120 s
  models chosen: {dict(models)}
  mean back-test MASE: chosen {np.mean([m for _, m, _ in results]):.3f} vs seasonal naive \
{np.mean([b for _, _, b in results]):.3f}
""")


if __name__ == "__main__":
    main()
