"""gridflow streams package."""
