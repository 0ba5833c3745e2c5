"""gridflow: the command-line shell, settings and local services around the pipeline packages."""
