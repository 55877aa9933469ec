"""Hotlines: numbers, their order and opening hours."""
