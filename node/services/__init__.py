"""Domain services: the only code that changes entities (see DESIGN.md, "One write path").

Each service works inside the caller's transaction (one session, one ``begin()``): it
changes rows, appends the public Activity to the outbox log and enqueues the jobs that
follow. It never calls the network or the search engine.
"""
