"""Polls: definitions, ballots and their tallies."""
