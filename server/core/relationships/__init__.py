"""Relationships: typed, directed edges between twins, first-class like twins."""
