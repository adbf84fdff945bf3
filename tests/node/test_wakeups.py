"""Workers of other processes hear of new jobs at once (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading

from node.jobs import enqueue
from node.runtime import Runtime
from node.wakeups import JobListener, conninfo, job_notifications


def test_a_committed_job_wakes_the_listener_of_another_connection(runtime: Runtime) -> None:
    url = conninfo(runtime.engine)
    if url is None:  # SQLite: its workers poll; nothing listens
        with job_notifications(runtime.engine) as nothing:
            assert nothing is None
        return
    woken = threading.Event()
    listener = JobListener(url, wake=woken)
    listener.start()
    try:
        assert listener.listening.wait(10), "the listener did not start listening"
        with runtime.transaction() as session:
            enqueue(session, "index", {"type": "event", "id": "x"})
        assert woken.wait(10), "no notification for a committed job"
    finally:
        listener.stop()
