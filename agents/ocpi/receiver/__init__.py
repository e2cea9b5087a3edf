"""The OCPI Receiver side: CPOs push their changes to us (PUT/PATCH/POST) and register with us."""
