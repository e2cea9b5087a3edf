"""HTTP routes of the embedded broker, one module per API area of ETSI GS CIM 009."""
