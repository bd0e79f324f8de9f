"""The organisation registry: partner organisations, their OAuth clients, and the bootstrap file."""
