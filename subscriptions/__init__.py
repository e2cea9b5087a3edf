"""Declarative NGSI-LD subscription specs, their idempotent registrar and the notification receiver."""
