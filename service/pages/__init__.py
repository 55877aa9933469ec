"""Per-page views: view counts, top lists, moderation, verification against the portal."""
