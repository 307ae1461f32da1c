"""The worker API over real HTTP: tokens, approval, leases, results, credits."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from edgemesh.accounts.lifecycle import Role
from edgemesh.client import ApiError
from tests.conftest import SiteFactory
from tests.support.raw_worker import RawWorker
from tests.support.sites import SiteProcess, wait_for

PRICE = 1000


def code_workload(key: str, n: int = 1) -> dict[str, Any]:
    """A batch of `n` trivial code units."""
    return {
        "kind": "batch" if n > 1 else "code",
        "idempotency_key": key,
        "units": [{"kind": "code", "source": f"print({i})"} for i in range(n)],
    }


class Mesh:
    """A site with an admin, a contributor, a user and raw workers."""

    def __init__(self, site: SiteProcess) -> None:
        self.site = site
        _, admin_key = site.account("admin@example.org", Role.ADMIN)
        self.contributor_id, contributor_key = site.account(
            "c@example.org", Role.CONTRIBUTOR
        )
        self.user_id, user_key = site.account(
            "u@example.org", Role.USER, credits_mc=10 * PRICE
        )
        self.admin = site.client("control-plane", admin_key)
        self.contributor = site.client("coordinator", contributor_key)
        self.user = site.client("coordinator", user_key)

    def active_worker(self, name: str = "n") -> tuple[RawWorker, str]:
        """Enrol, register and approve a node; returns its raw worker."""
        credential = self.contributor.enroll(name)
        worker = self.site.raw_worker(credential["token"])
        assert worker.register().json()["state"] == "pending"
        self.admin.decide(credential["node"]["node_id"], "approve")
        return worker, credential["node"]["node_id"]


@pytest.fixture
def mesh(start_site: SiteFactory) -> Mesh:
    return Mesh(start_site(lease_seconds=1.5, max_attempts=2))


def test_unknown_token_is_401_with_json_error(mesh: Mesh) -> None:
    response = mesh.site.raw_worker("emr_nobody").register()

    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_node_lifecycle_pending_then_active_and_rejected_is_403(mesh: Mesh) -> None:
    first = mesh.contributor.enroll("first")
    worker = mesh.site.raw_worker(first["token"])
    assert first["node"]["state"] == "enrolled"
    assert worker.register().json()["state"] == "pending"
    assert worker.post("pull", {"max_units": 1}).json()["error"] == "node_not_active"

    mesh.admin.decide(first["node"]["node_id"], "reject", "unknown machine")
    response = worker.post("heartbeat", {"running": []})

    assert response.status_code == 403
    assert response.json()["error"] == "node_rejected"
    with pytest.raises(ApiError) as refused:
        mesh.admin.decide(first["node"]["node_id"], "approve")
    assert refused.value.status == 409
    assert refused.value.code == "illegal_transition"


def test_token_is_stored_only_as_hash_and_rotation_stops_old_token(mesh: Mesh) -> None:
    worker, node_id = mesh.active_worker()
    token = worker.http.headers["authorization"].split()[1]
    with mesh.site.db.engine.connect() as conn:  # type: ignore[union-attr]
        dump = "\n".join(
            str(row) for row in conn.exec_driver_sql("SELECT * FROM nodes")
        )
    assert token not in dump

    rotated = mesh.contributor.request("POST", f"/v1/nodes/{node_id}/rotate-token")
    assert worker.post("heartbeat", {"running": []}).status_code == 401
    fresh = mesh.site.raw_worker(rotated["token"])
    assert fresh.post("heartbeat", {"running": []}).json()["state"] == "active"


def test_result_is_idempotent_and_credits_move_once(mesh: Mesh) -> None:
    worker, _ = mesh.active_worker()
    workload = mesh.user.submit(code_workload("once"))
    assert mesh.user.wallet() == {
        "account_id": mesh.user_id,
        "available_mc": 9 * PRICE,
        "held_mc": PRICE,
    }

    [unit] = worker.pull()
    first = worker.report(unit["lease_id"])
    second = worker.report(unit["lease_id"])

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert mesh.user.workload(workload["workload_id"])["state"] == "finished"
    assert mesh.user.wallet()["held_mc"] == 0
    assert mesh.contributor.wallet()["available_mc"] == 900
    summary = mesh.admin.credits_summary()
    assert summary["fee_mc"] == 100
    assert summary["drift"] == []


def test_result_from_a_worker_without_the_lease_is_refused(mesh: Mesh) -> None:
    holder, _ = mesh.active_worker("holder")
    intruder, _ = mesh.active_worker("intruder")
    mesh.user.submit(code_workload("theft"))
    [unit] = holder.pull()

    response = intruder.report(unit["lease_id"])

    assert response.status_code == 403
    assert response.json()["error"] == "lease_not_held"
    assert mesh.contributor.wallet()["available_mc"] == 0


def test_expired_lease_requeues_then_unit_dies_with_reason_and_hold_is_released(
    mesh: Mesh,
) -> None:
    worker, node_id = mesh.active_worker()
    workload = mesh.user.submit(code_workload("doomed"))

    first = worker.pull()
    time.sleep(2.5)  # no heartbeat: the 1.5 s lease runs out and the sweep requeues
    second = wait_for(lambda: worker.pull(), what="the unit back in the queue")
    late = worker.report(first[0]["lease_id"])
    wait_for(
        lambda: mesh.user.workload(workload["workload_id"])["state"] == "finished",
        what="the unit to die",
    )

    assert second[0]["unit_id"] == first[0]["unit_id"]
    assert late.status_code == 409 and late.json()["error"] == "lease_expired"
    [unit] = mesh.user.units(workload["workload_id"])
    assert unit["state"] == "failed"
    assert "gave up after 2 attempts" in unit["error"]
    assert node_id in unit["error"]
    assert mesh.user.wallet() == {
        "account_id": mesh.user_id,
        "available_mc": 10 * PRICE,
        "held_mc": 0,
    }


def test_heartbeat_keeps_a_long_lease_alive(mesh: Mesh) -> None:
    worker, _ = mesh.active_worker()
    mesh.user.submit(code_workload("long"))
    [unit] = worker.pull()

    for _ in range(6):
        time.sleep(0.5)
        worker.post("heartbeat", {"running": [unit["lease_id"]]})

    assert worker.report(unit["lease_id"]).json()["duplicate"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "code", "idempotency_key": "k", "units": []}, "invalid_request"),
        (
            {"kind": "code", "idempotency_key": "k", "units": [{"kind": "rust"}]},
            "invalid_request",
        ),
        (
            {"kind": "nonsense", "idempotency_key": "k", "units": [{"source": "1"}]},
            "invalid_request",
        ),
        (
            {"kind": "code", "units": [{"kind": "code", "source": "1"}]},
            "invalid_request",
        ),
        (code_workload("too-dear", 11), "insufficient_credits"),
    ],
)
def test_bad_submissions_get_4xx_json_and_change_nothing(
    mesh: Mesh, body: dict[str, Any], code: str
) -> None:
    with pytest.raises(ApiError) as refused:
        mesh.user.submit(body)

    assert 400 <= refused.value.status < 500
    assert refused.value.code == code
    assert mesh.user.workloads() == []
    assert mesh.user.wallet()["available_mc"] == 10 * PRICE


def test_not_json_and_wrong_role_are_refused(mesh: Mesh) -> None:
    raw = httpx.post(
        f"{mesh.site.coordinator}/v1/workloads",
        content=b"{not json",
        headers={"authorization": mesh.user._http.headers["authorization"]},
    )
    assert raw.status_code == 422 and raw.json()["error"] == "invalid_request"

    with pytest.raises(ApiError) as refused:
        mesh.contributor.submit(code_workload("wrong-role"))
    assert refused.value.status == 403
    anonymous = httpx.get(f"{mesh.site.coordinator}/v1/workloads")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "unauthenticated"


def test_same_idempotency_key_is_one_workload(mesh: Mesh) -> None:
    first = mesh.user.submit(code_workload("same"))
    again = mesh.user.submit(code_workload("same"))

    assert again["workload_id"] == first["workload_id"]
    assert mesh.user.wallet()["held_mc"] == PRICE
    with pytest.raises(ApiError) as clash:
        mesh.user.submit(code_workload("same", 2))
    assert clash.value.code == "duplicate_submission"


def test_health_and_metrics(mesh: Mesh) -> None:
    for url in mesh.site.urls.values():
        assert httpx.get(f"{url}/health/live").json()["status"] == "live"
        assert httpx.get(f"{url}/health/ready").json()["status"] == "ready"
    metrics = httpx.get(f"{mesh.site.coordinator}/metrics").text
    assert "edgemesh_queue_depth" in metrics
    docs = httpx.get(f"{mesh.site.coordinator}/openapi.json").json()
    assert "/v1/workloads" in docs["paths"]


def test_hostile_values_are_4xx_never_500(mesh: Mesh) -> None:
    worker, _ = mesh.active_worker()
    coordinator, control = mesh.site.coordinator, mesh.site.control_plane
    user_auth = {"authorization": mesh.user._http.headers["authorization"]}
    admin_auth = {"authorization": mesh.admin._http.headers["authorization"]}
    huge = 2**64
    requests = [
        ("GET", f"{coordinator}/v1/workloads/abc/units?offset={huge}", user_auth, None),
        ("GET", f"{coordinator}/v1/workloads/a%00b", user_auth, None),
        ("GET", f"{coordinator}/v1/quote?units={huge}", user_auth, None),
        ("GET", f"{control}/v1/nodes?state=zzz", admin_auth, None),
        (
            "POST",
            f"{control}/v1/credits/grants",
            admin_auth,
            {"email": "u@example.org", "amount_mc": True, "reference": "r"},
        ),
        (
            "POST",
            f"{coordinator}/v1/workloads",
            user_auth,
            {**code_workload("k"), "name": "nul\x00name"},
        ),
    ]
    for method, url, headers, body in requests:
        response = httpx.request(method, url, headers=headers, json=body)
        assert 400 <= response.status_code < 500, (url, response.text)
        assert set(response.json()) == {"error", "detail"}

    worker_posts = [
        ("results", {"lease_id": huge, "result": {"status": "passed", "verdict": "x"}}),
        (
            "results",
            {
                "lease_id": 1,
                "result": {"status": "passed", "verdict": "x", "wall_ms": huge},
            },
        ),
        ("heartbeat", {"running": [huge]}),
        (
            "register",
            {
                "sandbox_kind": "bwrap",
                "runtime_version": "1",
                "slots": 1,
                "memory_mb": huge,
            },
        ),
        ("register", {"sandbox_kind": "nul\x00", "runtime_version": "1", "slots": 1}),
        ("pull", {"max_units": "3"}),
    ]
    for path, body in worker_posts:
        response = worker.post(path, body)
        assert 400 <= response.status_code < 500, (path, response.text)
    assert mesh.contributor.wallet()["available_mc"] == 0
    assert mesh.user.wallet()["available_mc"] == 10 * PRICE


def test_openapi_declares_bearer_auth_and_error_bodies(mesh: Mesh) -> None:
    schema = httpx.get(f"{mesh.site.coordinator}/openapi.json").json()
    submit = schema["paths"]["/v1/workloads"]["post"]

    assert "bearer" in schema["components"]["securitySchemes"]
    assert submit["security"] == [{"bearer": []}]
    assert "ErrorBody" in str(submit["responses"]["402"])


def test_results_in_a_batch_are_taken_or_refused_one_by_one(mesh: Mesh) -> None:
    holder, _ = mesh.active_worker("holder")
    other, _ = mesh.active_worker("other")
    mesh.user.submit(code_workload("pair", 2))
    mine = holder.pull(1)[0]
    theirs = other.pull(1)[0]
    result = {"status": "passed", "verdict": "passed"}

    response = holder.post(
        "results/batch",
        {
            "results": [
                {"lease_id": mine["lease_id"], "result": result},
                {"lease_id": theirs["lease_id"], "result": result},
                {"lease_id": mine["lease_id"], "result": result},
            ]
        },
    )

    first, stolen, again = response.json()["results"]
    assert first["ack"]["duplicate"] is False and first["error"] is None
    assert stolen["ack"] is None and stolen["error"]["error"] == "lease_not_held"
    assert again["ack"]["duplicate"] is True
    assert mine["workload_id"] == theirs["workload_id"]
    assert mesh.contributor.wallet()["available_mc"] == 900


def test_last_units_finishing_together_finish_the_workload(mesh: Mesh) -> None:
    first, _ = mesh.active_worker("first")
    second, _ = mesh.active_worker("second")
    workload = mesh.user.submit(code_workload("race", 2))
    leases = [first.pull(1)[0]["lease_id"], second.pull(1)[0]["lease_id"]]
    start = threading.Barrier(2)

    def report(worker: RawWorker, lease_id: int) -> int:
        start.wait()
        return worker.report(lease_id).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(report, [first, second], leases))

    assert codes == [200, 200]
    view = mesh.user.workload(workload["workload_id"])
    assert (view["state"], view["done"]) == ("finished", 2)
    assert mesh.contributor.wallet()["available_mc"] == 1800
