"""The OpenAPI 3.1 document and the page that renders it."""

from .views import bp

__all__ = ["bp"]
