"""Compilers from resolved SDF documents to ndtwin's targets (SHACL, JSON Schema, WoT, Ditto)."""
