"""The development identity provider: demo users for every role, for ``make run`` and tests.

Only wired when ``GATEWAY_ENV=development`` (see :mod:`gateway.saml.area`); production has no
route to it and never builds it.
"""
