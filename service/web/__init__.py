"""What every route shares: auth, bodies, CORS and headers, errors, kept answers."""
