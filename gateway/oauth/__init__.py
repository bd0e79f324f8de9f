"""OAuth 2.0 for partner systems (API.md section 2, issue 3).

An authorization server on authlib (client credentials with ``private_key_jwt``,
``tls_client_auth`` and, in development, ``client_secret_basic``), JWT access tokens signed by
the gateway's rotating keys, introspection and revocation, and the resource protector that
every ``/api/v1`` view uses (:mod:`gateway.oauth.protect`). The services are built by
:mod:`gateway.composition`; the server and the views by ``create_app``.
"""
