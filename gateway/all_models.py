"""Every table of the gateway on the shared ``Base.metadata`` (Alembic, the tests, and the
composition root, which builds services over all of them).

Real imports, not names in strings: the import graph (``tests/architecture``) sees that this
module sits above every area whose tables it gathers.
"""

from __future__ import annotations

from .audit import models as audit_models
from .consents import models as consent_models
from .exchange import models as exchange_models
from .logboek import models as logboek_models
from .monitoring import models as monitoring_models
from .oauth import models as oauth_models
from .pact import models as pact_models
from .registry import models as region_models
from .reidentification import models as reidentification_models
from .saml import models as saml_models
from .signals import models as signal_models
from .storage import models as registry_models
from .web import models as web_session_models

MODEL_MODULES = (
    registry_models,
    region_models,
    oauth_models,
    exchange_models,
    audit_models,
    reidentification_models,
    consent_models,
    signal_models,
    monitoring_models,
    pact_models,
    saml_models,
    web_session_models,
    logboek_models,
)


def load_all_models() -> None:
    """Kept for callers that want to say why they import this module: the imports above
    already registered every table."""
