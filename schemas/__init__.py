"""Marshmallow schemas for the gateway's external contract (API.md), with no web framework.

- ``schemas.messages``: payload schemas per message type and ``load_payload``;
- ``schemas.exchange``, ``consent``, ``signal``, ``reidentification``, ``audit``,
  ``problem``: request bodies (each with a ``load_...`` helper) and documented answers;
- ``schemas.subject``, ``contact``, ``fields``, ``dates``: the shared parts;
- ``schemas.profiles``: recipient minimisation per route;
- ``schemas.openapi``: registration of every schema as an OpenAPI 3.1 component;
- ``schemas.errors``: ``SchemaValidationError`` with dotted field paths.

Loading never reads the clock: rules relative to today take ``today`` from the caller.
"""
