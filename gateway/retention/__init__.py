"""Retention for everything the gateway keeps about a child (issue 19, AVG article 5(1)(e)):
the terms (:mod:`.policy`, from ``gateway/policies/retention.yaml``) and the purge that applies
them (:mod:`.purge`), which the ``gateway retention purge`` command runs."""
