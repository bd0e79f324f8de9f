"""The contract version announced in every response's ``API-Version`` header."""

API_VERSION = "1.0.0"
