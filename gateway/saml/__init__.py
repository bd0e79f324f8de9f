"""SAML 2.0 single sign-on for the web interface (API.md section 10), built on pysaml2.

pysaml2 logs whole SAML documents (assertions: names, roles) at debug and error level, and
exception messages that embed them; the gateway never logs an assertion, so its logger passes
only critical records. Set here, before any submodule imports pysaml2.
"""

import logging

logging.getLogger("saml2").setLevel(logging.CRITICAL)
logging.getLogger("xmlschema").setLevel(logging.WARNING)
