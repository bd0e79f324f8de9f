"""Pact monitoring: the Thuiszitterspact indicators per school year (API.md section 9)."""
