"""Check-in, check-out, overlap, correction, self check-in and the hours, through the real API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

Headers = Callable[[str], dict[str, str]]
API = "/api/v1"


def setup_cohort(client: TestClient, admin: dict[str, str], user_ids: dict[str, int]) -> int:
    cohort = client.post(
        f"{API}/cohorts",
        json={"name": "Mars", "starts_on": "2025-03-03", "ends_on": "2025-03-14"},
        headers=admin,
    ).json()
    for name in ("tigiste", "tigiste2"):
        response = client.post(
            f"{API}/enrolments",
            json={"cohort_id": cohort["id"], "user_id": user_ids[name], "hours_due": 70},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    return int(cohort["id"])


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{API}{path}", json=body, headers=headers)


def test_day_of_attendance_and_hours(client: TestClient, headers: Headers, user_ids: dict[str, int]) -> None:
    trainer = headers("trainer")
    cid = setup_cohort(client, headers("admin"), user_ids)
    lea = user_ids["tigiste"]
    r = post(
        client, f"/cohorts/{cid}/attendance/check-in", {"user_id": lea, "at": "2025-03-03T09:02"}, trainer
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["check_in"].startswith("2025-03-03T09:02:00+01:00") and entry["method"] == "staff"
    # a second check-in while the first is open is refused, in French by default
    r = post(
        client, f"/cohorts/{cid}/attendance/check-in", {"user_id": lea, "at": "2025-03-03T10:00"}, trainer
    )
    assert r.status_code == 409 and r.json()["code"] == "ATTENDANCE_ALREADY_OPEN"
    assert "déjà pointée présente" in r.json()["message"]
    r = post(
        client, f"/cohorts/{cid}/attendance/check-out", {"user_id": lea, "at": "2025-03-03T12:31"}, trainer
    )
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["supersedes"] == entry["uuid"]
    # overlapping period refused
    r = post(
        client, f"/cohorts/{cid}/attendance/check-in", {"user_id": lea, "at": "2025-03-03T12:00"}, trainer
    )
    assert r.status_code == 409 and r.json()["code"] == "ATTENDANCE_OVERLAP"
    post(client, f"/cohorts/{cid}/attendance/check-in", {"user_id": lea, "at": "2025-03-03T13:30"}, trainer)
    post(client, f"/cohorts/{cid}/attendance/check-out", {"user_id": lea, "at": "2025-03-03T17:05"}, trainer)
    # 3 h 29 + 3 h 35 = 7 h 04 -> 7 h 00 (nearest quarter)
    hours = client.get(f"{API}/cohorts/{cid}/hours", headers=trainer).json()
    row = next(h for h in hours if h["user_id"] == lea)
    assert row["hours_done"] == 7.0 and row["hours_due"] == 70 and row["hours_remaining"] == 63.0
    assert row["username"] == "tigiste" and row["display_name"] == "Tigiste"
    # a correction is a new version with its reason; the hours follow it
    r = post(
        client,
        f"/attendance/{entry['id']}/correct",
        {
            "check_in": "2025-03-03T08:45",
            "check_out": "2025-03-03T12:31",
            "reason": "arrivée notée en retard",
        },
        trainer,
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 3 and r.json()["reason"] == "arrivée notée en retard"
    hours = client.get(f"{API}/cohorts/{cid}/hours", headers=trainer).json()
    assert next(h for h in hours if h["user_id"] == lea)["hours_done"] == 7.25  # 3 h 46 + 3 h 35 = 7 h 21
    versions = client.get(
        f"{API}/cohorts/{cid}/attendance", params={"versions": True}, headers=trainer
    ).json()
    assert [v["version"] for v in versions if v["entry_uuid"] == entry["entry_uuid"]] == [1, 2, 3]


def test_open_checkin_is_reported_not_closed(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    trainer = headers("trainer")
    cid = setup_cohort(client, headers("admin"), user_ids)
    lea = user_ids["tigiste"]
    post(client, f"/cohorts/{cid}/attendance/check-in", {"user_id": lea, "at": "2025-03-04T09:00"}, trainer)
    row = next(
        h for h in client.get(f"{API}/cohorts/{cid}/hours", headers=trainer).json() if h["user_id"] == lea
    )
    assert row["hours_done"] == 0
    assert [w["code"] for w in row["warnings"]] == ["OPEN_CHECKIN"]
    assert "sans sortie" in row["warnings"][0]["message"]


def test_self_checkin_counts_once_confirmed(
    client: TestClient, headers: Headers, user_ids: dict[str, int]
) -> None:
    cid = setup_cohort(client, headers("admin"), user_ids)
    me = headers("tigiste")
    r = post(client, f"/cohorts/{cid}/attendance/check-in", {"user_id": user_ids["tigiste"]}, me)
    assert r.status_code == 201 and r.json()["method"] == "self"
    # a tigiste cannot check someone else in, nor read their hours
    r2 = post(client, f"/cohorts/{cid}/attendance/check-in", {"user_id": user_ids["tigiste2"]}, me)
    assert r2.status_code == 403
    own = client.get(f"{API}/cohorts/{cid}/hours", headers=me).json()
    assert [h["user_id"] for h in own] == [user_ids["tigiste"]]
    assert [w["code"] for w in own[0]["warnings"]] == ["UNCONFIRMED_CHECKIN"]
    confirmed = client.post(f"{API}/attendance/{r.json()['entry_uuid']}/confirm", headers=headers("trainer"))
    assert confirmed.status_code == 201 and confirmed.json()["method"] == "confirmed"
