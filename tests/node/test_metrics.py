"""Operations over HTTP: ``/metrics`` (Prometheus text) and ``/readyz`` (readiness)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlmodel import col

from node.api.app import create_app
from node.cli import _metrics_server
from node.dbtypes import utcnow
from node.jobs import enqueue
from node.metrics import CONTENT_TYPE
from node.models import Job, JobState
from node.runtime import Runtime, build_runtime
from node.settings import Settings
from tests.conftest import PUBLIC_URL, World

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE
    return parse(answer.text)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_requests_are_counted_by_route_template(client: TestClient, world: World) -> None:
    account = world.account()
    org = world.organisation(account)
    event = world.event(account, org["id"])
    for _ in range(3):
        assert client.get(f"/api/v1/events/{event['id']}").status_code == 200
    assert client.get("/api/v1/events/no-such-event").status_code == 404
    assert client.get("/no/such/page/at/all").status_code == 404

    samples = scrape(client)
    route = "/api/v1/events/{event_id}"
    assert (
        value(samples, "maillon_http_requests_total", method="GET", route=route, status="200") == 3
    )
    assert (
        value(samples, "maillon_http_requests_total", method="GET", route=route, status="404") == 1
    )
    assert value(
        samples, "maillon_http_requests_total", method="POST", route="/api/v1/events",
        status="201",
    ) == 1  # fmt: skip
    assert (
        value(samples, "maillon_http_requests_total", method="GET", route="unmatched", status="404")
        == 1
    )
    assert (
        value(samples, "maillon_http_request_duration_seconds_count", method="GET", route=route)
        == 4
    )
    assert value(
        samples, "maillon_http_request_duration_seconds_bucket", method="GET", route=route,
        le="+Inf",
    ) == 4  # fmt: skip
    # Raw paths never become labels: the label sets stay bounded.
    routes = {dict(labels).get("route", "") for _, labels in samples}
    assert not any(event["id"] in r or "no-such" in r for r in routes)


def test_each_runtime_has_its_own_registry(settings: Settings, client: TestClient) -> None:
    client.get("/healthz")
    other = build_runtime(settings)
    try:
        app = create_app(settings, runtime=other, workers=0)
        with TestClient(app, base_url=PUBLIC_URL) as second:
            samples = scrape(second)
    finally:
        other.close()
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(samples, "maillon_http_requests_total", **labels) is None
    assert value(scrape(client), "maillon_http_requests_total", **labels) == 1


def test_the_job_queue_is_read_at_scrape_time(runtime: Runtime, client: TestClient) -> None:
    with runtime.transaction() as session:
        for n in range(3):
            enqueue(session, "deliver", {"n": n})
        enqueue(session, "deliver", {"n": "later"}, delay_seconds=3600)
        enqueue(session, "mail", {"n": 0})  # a kind without a handler still shows
    with runtime.transaction() as session:
        session.execute(
            update(Job)
            .where(col(Job.kind) == "deliver", col(Job.next_attempt_at) <= utcnow())
            .values(next_attempt_at=utcnow() - timedelta(seconds=120))
        )
    [claimed] = runtime.queue.claim(["mail"])
    runtime.queue.fail(claimed, "no mail server", final=True)

    samples = scrape(client)
    assert value(samples, "maillon_jobs", kind="deliver", state="pending") == 4
    assert value(samples, "maillon_jobs", kind="deliver", state="running") == 0
    assert value(samples, "maillon_jobs", kind="mail", state="failed") == 1
    assert value(samples, "maillon_jobs", kind="index", state="pending") is not None  # handled
    age = value(samples, "maillon_job_oldest_pending_age_seconds", kind="deliver")
    assert age is not None and 120 <= age < 600
    assert value(samples, "maillon_job_oldest_pending_age_seconds", kind="mail") == 0

    with runtime.transaction() as session:
        session.execute(update(Job).values(state=JobState.done))
    samples = scrape(client)
    assert value(samples, "maillon_jobs", kind="deliver", state="pending") == 0
    assert value(samples, "maillon_job_oldest_pending_age_seconds", kind="deliver") == 0


def test_plugins_observe_delivery_failures_and_search_time(
    runtime: Runtime, client: TestClient
) -> None:
    runtime.metrics.delivery_failures.labels("peer.example").inc()
    runtime.metrics.delivery_failures.labels("peer.example").inc()
    runtime.metrics.search_duration.labels("embedded", "search").observe(0.004)

    samples = scrape(client)
    assert value(samples, "maillon_delivery_failures_total", domain="peer.example") == 2
    assert (
        value(samples, "maillon_search_duration_seconds_count", backend="embedded", kind="search")
        == 1
    )
    assert value(
        samples, "maillon_search_duration_seconds_bucket", backend="embedded", kind="search",
        le="0.005",
    ) == 1  # fmt: skip


def test_a_worker_process_serves_its_metrics(runtime: Runtime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runtime.metrics.delivery_failures.labels("peer.example").inc()
    with _metrics_server(runtime, "127.0.0.1", port):
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert answer.status_code == 200
    samples = parse(answer.text)
    assert value(samples, "maillon_delivery_failures_total", domain="peer.example") == 1
    assert value(samples, "maillon_jobs", kind="deliver", state="pending") == 0


# --- /readyz -----------------------------------------------------------------------------


def test_ready_when_the_database_and_every_check_are(runtime: Runtime, client: TestClient) -> None:
    runtime.readiness.append(lambda: ("search", True, "meilisearch available"))
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert [check["name"] for check in body["checks"]] == ["database", "migrations", "search"]
    assert body["schema"] == body["head"]


def test_a_failing_check_makes_the_node_unready(runtime: Runtime, client: TestClient) -> None:
    def broken() -> tuple[str, bool, str]:
        raise ConnectionError("engine unreachable")

    runtime.readiness.append(lambda: ("search", False, "meilisearch: connection refused"))
    runtime.readiness.append(broken)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["search", "broken"]
    checks = {check["name"]: check for check in body["checks"]}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert checks["search"]["detail"] == "meilisearch: connection refused"
    assert checks["broken"]["detail"] == "ConnectionError: engine unreachable"


def _readyz(settings: Settings) -> httpx.Response:
    node = build_runtime(settings)
    try:
        with TestClient(create_app(settings, runtime=node, workers=0), base_url=PUBLIC_URL) as http:
            assert http.get("/healthz").status_code == 200  # alive all the same
            return http.get("/readyz")
    finally:
        node.close()


def test_unready_while_the_schema_is_behind(tmp_path: Path) -> None:
    answer = _readyz(Settings(database_url=f"sqlite:///{tmp_path}/empty.db", workers=0))
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["migrations"]
    assert answer.json()["schema"] is None


def test_unready_when_the_database_is_unreachable(tmp_path: Path) -> None:
    away = Settings(
        database_url="sqlite:////nonexistent-dir/x/node.db",
        search_path=str(tmp_path / "search.db"),
        workers=0,
    )
    answer = _readyz(away)
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["database"]
