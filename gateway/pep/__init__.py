"""Polymorphic pseudonymisation in the gateway: transcryptor, subjects, key issuing."""
