"""The worker's HTTP client for the coordinator's worker API."""

from __future__ import annotations

from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from edgemesh import __version__
from edgemesh.logs import get_logger

log = get_logger(__name__)


class CoordinatorRefused(Exception):
    """The coordinator answered with a 4xx: retrying the same request won't help."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "coordinator_unreachable",
        attempt=state.attempt_number,
        error=str(error) or type(error).__name__,
    )


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


class WorkerClient:
    """Calls to /v1/worker/*, authenticated by the node's registration token."""

    def __init__(
        self, base_url: str, token: str, *, give_up_after: float = 120.0
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "authorization": f"Bearer {token}",
                "user-agent": f"edgemesh-worker/{__version__}",
            },
            timeout=httpx.Timeout(30.0, connect=5.0),
        )
        self._give_up_after = give_up_after

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the worker API, retrying while the coordinator is unreachable."""

        @retry(
            retry=retry_if_exception(_transient),
            wait=wait_exponential_jitter(initial=0.2, max=5.0),
            stop=stop_after_delay(self._give_up_after),
            before_sleep=_log_retry,
            reraise=True,
        )
        def attempt() -> dict[str, Any]:
            response = self._http.post(f"/v1/worker/{path}", json=body)
            if 400 <= response.status_code < 500:
                payload = _json_or_empty(response)
                raise CoordinatorRefused(
                    response.status_code,
                    str(payload.get("error", "refused")),
                    str(payload.get("detail", response.text[:200])),
                )
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

        return attempt()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
