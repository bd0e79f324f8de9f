"""``gateway bootstrap FILE``: apply a declarative YAML file of organisations, clients, route
policies and the SAML set-up.

The file is the repeatable set-up of a deployment. Applying it is idempotent: a second run
changes nothing, a changed file updates the records it names (records it does not name are left
alone; suspension is explicit, never implied by absence). An invalid file is refused as a whole,
with every problem listed by line, before anything is written.

The package is split by what each part loads, so that the registry (on the ``ledger`` floor)
does not reach up into the exchange, the SAML set-up or the audit log:

- ``file``: reading the YAML and checking the organisations and their clients (registry rules);
- ``routes``: the ``routes`` block (the exchange's route policies);
- ``saml``: the ``saml`` block (``gateway.saml.setup``);
- ``apply``: writing a checked plan in one transaction, with an ``admin.*`` audit event per
  change.
"""

from .apply import apply_bootstrap
from .errors import BootstrapError
from .file import read_bootstrap
from .plan import BootstrapFile, BootstrapReport, ClientPlan, OrganisationPlan

__all__ = [
    "BootstrapError",
    "BootstrapFile",
    "BootstrapReport",
    "ClientPlan",
    "OrganisationPlan",
    "apply_bootstrap",
    "read_bootstrap",
]
