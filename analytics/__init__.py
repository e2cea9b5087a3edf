"""Analytics workers (health/SLA, violations, demand and forecast, energy and revenue)."""
