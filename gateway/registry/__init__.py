"""The organisation registry: partner organisations and their OAuth clients (the rules a record
must meet, credentials, secrets, and the line-located YAML reader that `gateway.bootstrap` uses)."""
