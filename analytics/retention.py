"""Ended records are kept for a set time, then deleted (``CIC_RECORDS_RETENTION_DAYS``).

Charging sessions and charge detail records arrive every day and are never updated once ended;
closed alerts likewise. What a council reports on is kept: 400 days by default (13 months), after
which what they fed is in the KPIs' history. Deletion goes through plain NGSI-LD (query, then
batch delete), so it works the same on the embedded broker and on Orion-LD. Ages are judged in
event time (the data clock), so an accelerated demo ages its records as its clock runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from citiesincharge.client import NgsiLdClient

from .clock import iso

log = logging.getLogger(__name__)

# entity type -> the attribute whose time says a record has ended, and when
ENDED_BY = {"ChargingSession": "endDateTime", "ChargeDetailRecord": "endDateTime", "Alert": "validTo"}


def sweep(client: NgsiLdClient, now: datetime, days: float) -> dict[str, int]:
    """Delete the records that ended more than ``days`` before ``now``; how many of each type went.

    The ids are collected first and deleted after, as deleting while paging would shift the pages.
    """
    cutoff = iso(now - timedelta(days=days))
    removed: dict[str, int] = {}
    for entity_type, attribute in ENDED_BY.items():
        ended = [e["id"] for e in client.query_entities(type=entity_type, q=f"{attribute}<{cutoff}",
                                                       attrs=[attribute], options="keyValues")]
        result = client.batch_delete(ended) if ended else None  # the client sends it in batches
        for failed in result.errors if result else []:
            log.warning("retention: %s not deleted: %s", failed.entity_id, failed.error.detail)
        removed[entity_type] = len(result.success) if result else 0
        if removed[entity_type]:
            log.info("retention: %d %s entities that ended before %s deleted", removed[entity_type], entity_type,
                     cutoff)
    return removed
