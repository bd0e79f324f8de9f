"""The OpenAPI 3.1 document and the page that renders it."""
