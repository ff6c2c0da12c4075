"""Validation of twins and relationships against the compiled shapes of their models."""
