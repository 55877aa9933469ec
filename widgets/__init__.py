"""The embed script and its assets, shipped as package data."""
