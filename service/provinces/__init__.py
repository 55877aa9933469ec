"""Many portals as one: groups, merges, moving between deployments."""
