"""Declarative mappings from source formats (OCPI, sensor payloads) to Smart Data Models entities."""
