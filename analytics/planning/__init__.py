"""Roll-out planning (issue 13): the council's planning areas as NGSI-LD entities, and the stations in them.

Why here: the import is I/O and mapping like an agent, but its only reader is planning analytics
(indicators and ranking per area, later parts of issue 13), so it lives beside them under
``analytics/``. It imports ``citiesincharge`` only (the layout's rule for ``analytics``).
"""
