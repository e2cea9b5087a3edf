"""Roll-out planning (issue 13): the council's planning areas as NGSI-LD entities, the stations in them,
and a ranked, explained plan of where to build next (docs/PLANNING.md).

Why here: the import is I/O and mapping like an agent, but its only reader is planning analytics,
so it lives beside them under ``analytics/``; like the other analytics it imports ``citiesincharge``
and the analytics' own modules (KPIs, clock), never the agents or the broker.
"""
