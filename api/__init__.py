"""custody api package."""
