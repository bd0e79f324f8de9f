"""Session fixtures of the federation harness: the IdPs start once, the metadata server too.

Tests elsewhere (e.g. ``tests/e2e``) get the same by declaring these two fixtures in their own
conftest with ``IdpPool``/``MetadataServer`` from :mod:`tests.federation.simplesamlphp`.
"""

from __future__ import annotations

import pytest

from tests.federation.simplesamlphp import IdpPool, MetadataServer, check_installed


@pytest.fixture(scope="session")
def simplesamlphp_idps(tmp_path_factory):
    """``simplesamlphp_idps.get(kind, sp_metadata_xml, name="default", **options)``."""
    check_installed()
    pool = IdpPool(tmp_path_factory.mktemp("simplesamlphp"))
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def metadata_server():
    """A static HTTP server on 127.0.0.1 for metadata documents (``publish``/``url``/``hits``)."""
    server = MetadataServer()
    yield server
    server.stop()
