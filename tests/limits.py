"""Rate limits for test gateways that flood on purpose.

Attack tests send hundreds of forged tokens, assertions or SAML responses from one address in
a second; the per-address limit (GATEWAY_RATE_LIMIT_ADDRESS, issue 16) would answer them 429
before the defence under test is reached. Test gateways raise it as they raise the per-client
limits; tests/e2e/test_rate_limits.py checks the limit itself on a server of its own.
"""

FLOOD_LIMIT = "100000/second"
