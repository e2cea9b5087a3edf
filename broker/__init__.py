"""The embedded NGSI-LD context broker (ETSI GS CIM 009 subset) used wherever Orion-LD is not running."""
