"""The register of processing activities (AVG article 30), generated from the route policies
in the database, the gateway's generated message types and its own processing
(docs/architecture.md: the services floor; :mod:`.ids` sits on the foundation floor so that
any code that logs a processing can name its activity)."""
