"""Counting visits: which hits count, visitors, calendar periods, figures, sources."""
