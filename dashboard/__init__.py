"""The built-in web dashboard; reads NGSI-LD only."""
