"""Named operations the routes and the CLI call."""
