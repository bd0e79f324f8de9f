"""Signals (API.md section 6): who else is involved with this child."""
