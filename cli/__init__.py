"""custody cli package."""
