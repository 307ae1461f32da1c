"""A Python client for a site's REST API, used by the CLI, demo and eval."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from edgemesh import __version__


class ApiError(Exception):
    """The site refused a request; carries its error code and detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail} (HTTP {status})")
        self.status = status
        self.code = code
        self.detail = detail


class SiteClient:
    """Calls one service of a site with an API key."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, timeout: float = 60.0
    ) -> None:
        headers = {"user-agent": f"edgemesh-client/{__version__}"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON, or raise ApiError."""
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            if not isinstance(payload, dict):
                payload = {}
            raise ApiError(
                response.status_code,
                str(payload.get("error", "http_error")),
                str(payload.get("detail", response.text[:300])),
            )
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SiteClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # coordinator: workloads and wallet

    def submit(self, submission: dict[str, Any]) -> dict[str, Any]:
        """Submit a workload; returns its progress view."""
        result: dict[str, Any] = self.request("POST", "/v1/workloads", json=submission)
        return result

    def workload(self, workload_id: str) -> dict[str, Any]:
        """A workload's progress."""
        result: dict[str, Any] = self.request("GET", f"/v1/workloads/{workload_id}")
        return result

    def workloads(self) -> list[dict[str, Any]]:
        """The caller's newest workloads."""
        result: list[dict[str, Any]] = self.request("GET", "/v1/workloads")
        return result

    def units(self, workload_id: str, *, page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every unit of a workload, in submission order."""
        offset: int | None = 0
        while offset is not None:
            body = self.request(
                "GET",
                f"/v1/workloads/{workload_id}/units",
                params={"offset": offset, "limit": page},
            )
            yield from body["units"]
            offset = body["next_offset"]

    def wallet(self) -> dict[str, Any]:
        """The caller's balances in milli-credits."""
        result: dict[str, Any] = self.request("GET", "/v1/wallet")
        return result

    # coordinator: nodes (contributors)

    def enroll(self, name: str) -> dict[str, Any]:
        """Enrol a node; the answer holds its registration token, shown once."""
        result: dict[str, Any] = self.request("POST", "/v1/nodes", json={"name": name})
        return result

    def my_nodes(self) -> list[dict[str, Any]]:
        """The caller's nodes."""
        result: list[dict[str, Any]] = self.request("GET", "/v1/nodes")
        return result

    # control plane (operators)

    def nodes(self, state: str | None = None) -> list[dict[str, Any]]:
        """Every node, optionally only those in one state."""
        params = {"state": state} if state else {}
        result: list[dict[str, Any]] = self.request("GET", "/v1/nodes", params=params)
        return result

    def decide(self, node_id: str, event: str, reason: str = "") -> dict[str, Any]:
        """Approve or reject a node."""
        result: dict[str, Any] = self.request(
            "POST", f"/v1/nodes/{node_id}/{event}", json={"reason": reason}
        )
        return result

    def create_account(self, email: str, roles: list[str]) -> dict[str, Any]:
        """Create an account; the answer holds its first API key."""
        result: dict[str, Any] = self.request(
            "POST", "/v1/accounts", json={"email": email, "roles": roles}
        )
        return result

    def grant(self, email: str, amount_mc: int, reference: str) -> dict[str, Any]:
        """Mint credits into an account's wallet."""
        body = {"email": email, "amount_mc": amount_mc, "reference": reference}
        result: dict[str, Any] = self.request("POST", "/v1/credits/grants", json=body)
        return result

    def credits_summary(self) -> dict[str, Any]:
        """Credits minted, fees collected, and journal drift (admins)."""
        result: dict[str, Any] = self.request("GET", "/v1/credits/summary")
        return result
