"""No key reaches the server's log, in either log format (issue 7, item 4).

A key pasted into a query string, or sent as a bad bearer token, is in the request
uvicorn logs: its access line (plain logs) and our request line (JSON logs) must
name the request without the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASTED_KEY = "hs_sel_pastedintoaquerystring0123"
BAD_BEARER = "hs_sf_notarealkeybutsecretlooking4567"


@pytest.mark.parametrize(
    "args", [pytest.param([], id="plain"), pytest.param(["--json-logs"], id="json")]
)
def test_a_key_in_a_query_string_or_a_bad_bearer_is_not_logged(
    tmp_path: Path, args: list[str]
) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'hs.db'}", tmp_path / "server.log", args=args)
    server.start()
    try:
        with server.client() as http:
            offer = http.get(f"/v1/offers/NO-SUCH-SKU?region={PASTED_KEY}")
            me = http.get("/v1/notifications", headers={"Authorization": f"Bearer {BAD_BEARER}"})
    finally:
        server.stop()

    assert offer.status_code == 404 and me.status_code == 401
    log = server.log()
    assert "/v1/offers/NO-SUCH-SKU" in log  # the request was logged...
    assert PASTED_KEY not in log and BAD_BEARER not in log  # ...without the keys
