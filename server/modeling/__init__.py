"""server/modeling."""
