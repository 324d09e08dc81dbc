"""The token and revoke endpoints (client credentials in the form body, or HTTP Basic)."""

import base64
import binascii
from http import HTTPStatus
from urllib.parse import unquote_plus

from integrations.sage.sandbox.oauth import V30, V31, OAuthError
from integrations.sage.sandbox.protocol import json_response, oauth_error

NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def client_credentials(request) -> tuple[str, str]:
    """Return (client_id, client_secret) from the form body, else from HTTP Basic."""
    client_id = request.form.get("client_id", "")
    secret = request.form.get("client_secret", "")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if not secret and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.") from None
        basic_id, _, basic_secret = decoded.partition(":")
        basic_id, secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        if client_id and client_id != basic_id:
            raise OAuthError("invalid_request", "Two different client IDs were sent.")
        client_id = basic_id
    return client_id, secret


def check_form_post(request) -> None:
    if request.method != "POST":
        raise OAuthError("invalid_request", "Use POST.", HTTPStatus.METHOD_NOT_ALLOWED)
    if "application/x-www-form-urlencoded" not in request.headers.get("Content-Type", ""):
        raise OAuthError("invalid_request", "Send an application/x-www-form-urlencoded body.")


def handle_token(sandbox, request):
    version = V30 if request.route == "v30_token" else V31
    try:
        check_form_post(request)
        client_id, secret = client_credentials(request)
        sandbox.authenticate_client(client_id, secret)
        grant_type = request.form.get("grant_type", "")
        if grant_type == "authorization_code":
            body = sandbox.exchange_code(version=version, client_id=client_id, form=request.form)
        elif grant_type == "refresh_token":
            body = sandbox.refresh_grant(version=version, client_id=client_id, form=request.form)
        elif not grant_type:
            raise OAuthError("invalid_request", "The grant_type parameter is missing.")
        else:
            raise OAuthError("unsupported_grant_type", "This grant_type is not supported.")
    except OAuthError as error:
        return oauth_error(error.error, error.description, error.status)
    return json_response(body, headers=NO_STORE)


def handle_revoke(sandbox, request):
    try:
        check_form_post(request)
        client_id, secret = client_credentials(request)
        sandbox.authenticate_client(client_id, secret)
        if not request.form.get("token"):
            raise OAuthError("invalid_request", "The token parameter is missing.")
        sandbox.revoke(client_id=client_id, token=request.form["token"])
    except OAuthError as error:
        return oauth_error(error.error, error.description, error.status)
    return json_response({"success": "ok"})
