"""A worker spoken to by hand over HTTP, to test the worker API's refusals."""

from __future__ import annotations

from typing import Any

import httpx


class RawWorker:
    """Calls /v1/worker/* with a registration token; returns raw responses."""

    def __init__(self, coordinator: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=coordinator,
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST to the worker API."""
        return self.http.post(f"/v1/worker/{path}", json=body)

    def register(self) -> httpx.Response:
        """Register as a worker with one slot."""
        return self.post(
            "register",
            {"sandbox_kind": "rlimits", "runtime_version": "0.1.0", "slots": 4},
        )

    def pull(self, n: int = 1) -> list[dict[str, Any]]:
        """Lease up to n units; fails the test on a refusal."""
        response = self.post("pull", {"max_units": n})
        assert response.status_code == 200, response.text
        units: list[dict[str, Any]] = response.json()["units"]
        return units

    def report(
        self, lease_id: int, status: str = "passed", verdict: str = "passed"
    ) -> httpx.Response:
        """Post a result for a lease."""
        return self.post(
            "results",
            {"lease_id": lease_id, "result": {"status": status, "verdict": verdict}},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
