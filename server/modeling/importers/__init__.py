"""Importers from other model languages into SDF documents (RFC 9880)."""
