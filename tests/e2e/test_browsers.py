"""Browser front ends: CORS and WebSocket origins are allowed only where configured."""

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type"}


def test_a_configured_origin_passes_cors_and_others_do_not(browser_server):
    import httpx

    with httpx.Client(base_url=browser_server.url) as http:
        allowed = http.options("/graphql", headers={"Origin": "https://app.example", **PREFLIGHT})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        refused = http.options("/graphql", headers={"Origin": "https://evil.example",
                                                    **PREFLIGHT})
        assert "access-control-allow-origin" not in refused.headers


def test_without_configuration_no_origin_is_allowed(server):
    import httpx

    with httpx.Client(base_url=server.url) as http:
        answer = http.options("/graphql", headers={"Origin": "https://app.example",
                                                   **PREFLIGHT})
        assert "access-control-allow-origin" not in answer.headers


def ws_handshake(server, origin):
    return connect(server.ws_url, subprotocols=["graphql-transport-ws"],
                   origin=origin, open_timeout=10)


def test_websockets_from_a_configured_origin_are_accepted(browser_server):
    with ws_handshake(browser_server, "https://app.example") as ws:
        assert ws.subprotocol == "graphql-transport-ws"


def test_websockets_from_other_origins_are_refused(browser_server):
    with pytest.raises(InvalidStatus) as refused:
        ws_handshake(browser_server, "https://evil.example")
    assert refused.value.response.status_code == 403
