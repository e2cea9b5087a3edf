"""The open-data feed (issue 15 §3, docs/OPENDATA.md): what operators share as ``public``, in the
formats open-data users expect — GeoJSON, NGSI-LD keyValues and an OCPI 2.2.1 Locations endpoint.

Beside the dashboard because it is the same kind of thing: a northbound, read-only service that
reads the broker over NGSI-LD only (it may import ``citiesincharge`` and nothing else).
"""
