"""The HTML evidence report."""
