"""gridflow sinks package."""
