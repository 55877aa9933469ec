"""HTTP views: they know requests and responses, and call the domain modules."""
