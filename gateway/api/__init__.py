"""Shared pieces of the ``/api/v1`` surface: strict request parsing and pagination."""
