"""gridflow producers package."""
