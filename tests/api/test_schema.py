"""The OpenAPI 3 schema describes every endpoint; the docs page is served by the portal."""

from http import HTTPStatus

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_lists_every_endpoint_with_the_key_scheme(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == HTTPStatus.OK
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= {
        "/api/v1/companies",
        "/api/v1/companies/{id}",
        "/api/v1/companies/{id}/link-url",
        "/api/v1/companies/{id}/connection",
        "/api/v1/companies/{id}/connection/unlink",
        "/api/v1/companies/{id}/sage/{path}",
    }
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert scheme == scheme | {"type": "apiKey", "in": "header", "name": "Authorization"}
    listing = schema["paths"]["/api/v1/companies"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"cursor", "limit", "status", "search"}
    assert set(listing["responses"]) >= {"200", "401", "429"}


def test_docs_page_uses_local_files_only(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert 'data-schema-url="/api/v1/schema/"' in html
    assert "https://" not in html
    assert "<script>" not in html  # no inline script: the CSP would refuse it
