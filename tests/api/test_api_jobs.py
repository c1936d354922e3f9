"""The job flow through the API: submit, approve or reject with a reason, cancel, filters, history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.test_api_isolation import submit, upload

Headers = Callable[[str], dict[str, str]]


def test_submit_approve_then_cancel(client: TestClient, headers: Headers) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    job = submit(client, alice, upload(client, alice)["id"])
    assert job["state"] == "submitted" and job["kind"] == "printer"

    approved = client.post(f"/api/v1/jobs/{job['id']}/approve", headers=trainer)
    assert approved.status_code == 200
    assert approved.json()["state"] == "queued"
    assert (
        client.post(f"/api/v1/jobs/{job['id']}/approve", headers=trainer).json()["code"]
        == "ILLEGAL_TRANSITION"
    )

    cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel", json={"reason": "plus besoin"}, headers=alice)
    assert cancelled.json()["state"] == "cancelled"
    events = client.get(f"/api/v1/jobs/{job['id']}/events", headers=alice).json()
    assert [e["to_state"] for e in events] == ["submitted", "approved", "queued", "cancelled"]
    assert events[-1]["reason"] == "plus besoin"


def test_reject_needs_a_reason_and_shows_it(client: TestClient, headers: Headers) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    job = submit(client, alice, upload(client, alice)["id"])
    empty = client.post(f"/api/v1/jobs/{job['id']}/reject", json={"reason": ""}, headers=trainer)
    assert empty.status_code == 422 and empty.json()["code"] == "INVALID_INPUT"
    rejected = client.post(
        f"/api/v1/jobs/{job['id']}/reject", json={"reason": "Pièce trop fine"}, headers=trainer
    )
    assert rejected.json()["state"] == "rejected"
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=alice).json()["reason"] == "Pièce trop fine"
    assert client.post(f"/api/v1/jobs/{job['id']}/approve", headers=headers("tigiste")).status_code == 403


def test_filters(client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
    alice, bob, trainer = headers("tigiste"), headers("tigiste2"), headers("trainer")
    a = submit(client, alice, upload(client, alice)["id"])
    b = submit(client, bob, upload(client, bob)["id"])
    client.post(f"/api/v1/jobs/{b['id']}/approve", headers=trainer)

    def ids(**params: object) -> list[int]:
        return [j["id"] for j in client.get("/api/v1/jobs", params=params, headers=trainer).json()]

    assert ids() == [b["id"], a["id"]]
    assert ids(state="queued") == [b["id"]]
    assert ids(owner_id=user_ids["tigiste"]) == [a["id"]]
    assert ids(machine_id=999) == []
    bad = client.get("/api/v1/jobs", params={"state": "flying"}, headers=trainer)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_INPUT"


def test_a_design_with_errors_cannot_become_a_job(client: TestClient, headers: Headers) -> None:
    alice = headers("tigiste")
    open_mesh = (  # readable (so it is kept) but not watertight: an error in the report
        b"solid open\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 10 0 0\nvertex 0 10 0\n"
        b"endloop\nendfacet\nendsolid open\n"
    )
    broken = upload(client, alice, name="broken.stl", data=open_mesh)
    assert broken["ok"] is False
    response = client.post("/api/v1/jobs", json={"design_id": broken["id"], "material": "PLA"}, headers=alice)
    assert response.status_code == 422
    assert response.json()["code"] == "DESIGN_HAS_ERRORS"


def test_machine_actions_are_for_staff_and_need_the_right_state(client: TestClient, headers: Headers) -> None:
    alice, trainer = headers("tigiste"), headers("trainer")
    job = submit(client, alice, upload(client, alice)["id"])
    for action in ("confirm", "pause", "resume", "retry"):
        assert client.post(f"/api/v1/jobs/{job['id']}/{action}", headers=alice).status_code == 403
    early = client.post(f"/api/v1/jobs/{job['id']}/confirm", headers=trainer)
    assert early.status_code == 409 and early.json()["code"] == "ACTION_NOT_POSSIBLE"
    assert client.post(f"/api/v1/jobs/{job['id']}/retry", headers=trainer).json()["code"] == "NOT_RETRYABLE"
    resolve = client.post(f"/api/v1/jobs/{job['id']}/resolve", json={"outcome": "done"}, headers=trainer)
    assert resolve.status_code == 409 and resolve.json()["code"] == "NOT_INTERRUPTED"
    bad = client.post(f"/api/v1/jobs/{job['id']}/resolve", json={"outcome": "exploded"}, headers=trainer)
    assert bad.status_code == 422
