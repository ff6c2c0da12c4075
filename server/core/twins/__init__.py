"""Twins: the Ditto-shaped thing document and the operations on it."""
