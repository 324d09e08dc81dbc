"""Clients of the REST API, each with a key of its organization."""

import pytest


@pytest.fixture
def api_a(org_a, make_api_key, api_client):
    return api_client(make_api_key(org_a)[1])


@pytest.fixture
def api_b(org_b, make_api_key, api_client):
    return api_client(make_api_key(org_b)[1])
