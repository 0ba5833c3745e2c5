"""gridflow schemas package."""
