"""OCPI southbound agent: operators' charge points, sessions, CDRs and tariffs into NGSI-LD."""
