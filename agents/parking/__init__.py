"""MQTT parking-bay agent: sensor events of several vendors into SDM ParkingSpot entities."""
