"""Views, one module per area; their URL patterns are in integrations/urls.py."""
