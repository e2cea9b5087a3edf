"""Simulated charge point operators speaking OCPI 2.1.1 / 2.2.1 (``cic simulate cpo``)."""
