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


def test_the_sage_proxy_declares_sages_query_and_its_problems(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operation = schema["paths"]["/api/v1/companies/{id}/sage/{path}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) >= {
        "items_per_page",
        "page",
        "search",
        "updated_or_created_since",
        "deleted_since",
    }
    assert parameters["items_per_page"]["schema"]["type"] == "integer"
    assert parameters["updated_or_created_since"]["schema"]["format"] == "date-time"
    # Every error Sage may answer is a problem document with Sage's answer inside.
    for status in ("400", "404", "422", "429", "500", "502", "503"):
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
    sage_problem = operation["responses"]["404"]["content"]["application/problem+json"]["schema"]
    name = sage_problem["$ref"].rsplit("/", 1)[1]
    component = schema["components"]["schemas"][name]
    assert {"code", "sage"} <= set(component["properties"])
    answer = schema["components"]["schemas"][
        component["properties"]["sage"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
        if "allOf" in component["properties"]["sage"]
        else component["properties"]["sage"]["$ref"].rsplit("/", 1)[1]
    ]
    errors = answer["properties"]["errors"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][errors]["properties"]) == {
        "$severity",
        "$dataCode",
        "$message",
        "$source",
    }
