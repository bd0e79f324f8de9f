"""Federated sign-in against real identity providers (issue 21): the SimpleSAMLphp harness."""
