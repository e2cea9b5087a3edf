"""CitiesInCharge: EV charging data (OCPI, MQTT) harmonised into NGSI-LD for local authorities."""

__version__ = "0.1.0"
