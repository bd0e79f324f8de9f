"""The contract version announced in every response's ``API-Version`` header."""

API_VERSION = "1.1.0"


def package_version() -> str:
    """The installed distribution's version (the build), for ``gateway_build_info``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thuiszitterspact-gateway")
    except PackageNotFoundError:
        return "unknown"
