#!/usr/bin/env python3
"""Observability of a running server, read with independent tools: the metrics through
the Prometheus project's own parser (prometheus_client), the request ids and the access log
through the server's JSON log.

Usage: observe_check.py LATCHKEY_BINARY

1. A server with LATCHKEY_METRICS_LISTEN, JSON logs, no trusted proxy, mail to an SMTP port
   where nothing listens, refresh grace 0 and one registration per address. Real traffic,
   then a scrape: each counter moved exactly as the traffic says; no label holds a concrete
   id; the public port has no /metrics; the outbox holds the unsent mail and /readyz names
   the mailer. An X-Request-Id sent by this (untrusted) peer is replaced; the response
   header, the error body's requestId and the request's log lines (its access line
   included) carry the same id; every request has exactly one access line.
2. A server trusting 127.0.0.1 as a proxy: its X-Request-Id is echoed and logged, and an
   unsafe one replaced.
"""
import json
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for tests/rig
import rig  # noqa: E402

PASSWORD = "correct horse battery staple"


def scrape(url):
    """{(sample name, frozenset of labels): value} from GET url, parsed by prometheus_client."""
    status, _, _ = rig.request("GET", url)  # the status first: the body is not JSON
    assert status == 200, f"GET {url}: {status}"
    import urllib.request
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url) as res:
        assert "openmetrics-text" in res.headers["content-type"] or \
            "text/plain" in res.headers["content-type"], res.headers["content-type"]
        text = res.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, text


def value(samples, name, **labels):
    """The sample's value; 0 for a labelled series never created (nothing counted yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name, **labels):
    """The sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def json_lines(server):
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def request_id_of(event):
    return (event.get("span") or {}).get("request_id")


def access_lines(server, request_id):
    return [e for e in json_lines(server)
            if e.get("target") == "latchkey::access" and request_id_of(e) == request_id]


def wait_for(check, what, limit=10.0):
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def traffic_and_scrape(binary, workdir):
    metrics_port = rig.free_port()
    dead_smtp = rig.free_port()  # nothing listens: every email fails and stays queued
    env = {
        "LATCHKEY_METRICS_LISTEN": f"127.0.0.1:{metrics_port}",
        "LATCHKEY_LOG_FORMAT": "json",
        "LATCHKEY_SMTP_HOST": "127.0.0.1",
        "LATCHKEY_SMTP_PORT": str(dead_smtp),
        "LATCHKEY_SMTP_TLS": "none",
        "LATCHKEY_REFRESH_GRACE": "0",
        "LATCHKEY_RATE_LIMITS": "register_ip=2/1h",
        "RUST_LOG": "info",
    }
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    with rig.Server(binary, workdir, env, name="observed") as server:
        call = rig.client(server.url)
        before, text = scrape(metrics_url)
        assert "latchkey_db_pool_connections_in_use" in text, text

        # Two accounts (two registrations: the limit), then a third registration refused.
        for email in ("ann@example.com", "bob@example.com"):
            status, _ = call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD})
            assert status == 201, status
        status, refused_body, refused_headers = rig.request(
            "POST", server.url + "/api/v1/auth/register",
            {"email": "cy@example.com", "password": PASSWORD},
            headers={"X-Request-Id": "forged-by-the-client"})
        assert status == 429, status

        # Two failed sign-ins and one that works.
        for _ in range(2):
            status, _ = call("POST", "/api/v1/auth/signin", {"email": "ann@example.com", "password": "wrong password!"})
            assert status == 401, status
        status, signed = call("POST", "/api/v1/auth/signin", {"email": "ann@example.com", "password": PASSWORD})
        assert status == 200, status

        # A rotation, then the spent token again: grace 0, so a reuse.
        spent = signed["refreshToken"]
        status, _ = call("POST", "/api/v1/auth/refresh", {"refreshToken": spent})
        assert status == 200, status
        status, body = call("POST", "/api/v1/auth/refresh", {"refreshToken": spent})
        assert (status, rig.error_code(body)) == (401, "refresh_token_reused"), (status, body)

        # A concrete id in a path, and a query string with a secret-looking value.
        secret_id = "0123456789abcdef-not-a-label"
        status, _ = call("DELETE", f"/api/v1/sessions/{secret_id}", token=signed["accessToken"])
        status, _, _ = rig.request("GET", server.url + "/healthz?token=query-secret-value")
        assert status == 200
        status, _, _ = rig.request("GET", server.url + "/no/such/path/anywhere")
        assert status == 404

        # The mailer failed (nothing listens): readiness names it; the mail waits.
        wait_for(lambda: call("GET", "/readyz")[0] == 503, "/readyz to report the mailer")
        status, ready, ready_headers = rig.request("GET", server.url + "/readyz")
        assert status == 503 and ready["failing"] == ["mailer"], (status, ready)
        assert ready["requestId"] == ready_headers["X-Request-Id"], ready

        # The public port does not serve the metrics.
        assert rig.request("GET", server.url + "/metrics")[0] == 404

        after, text = scrape(metrics_url)
        moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)
        assert moved("latchkey_sign_ins_total", outcome="invalid_credentials") == 2, text
        assert moved("latchkey_sign_ins_total", outcome="ok") == 1, text
        assert moved("latchkey_refresh_rotations_total") == 1, text
        assert moved("latchkey_refresh_reuse_detections_total") == 1, text
        assert moved("latchkey_rate_limit_refusals_total", rule="register_ip") == 1, text
        assert value(after, "latchkey_http_requests_total", method="POST",
                     route="/api/v1/auth/signin", status="401") == 2, text
        assert value(after, "latchkey_http_requests_total", method="POST",
                     route="/api/v1/auth/register", status="429") == 1, text
        assert value(after, "latchkey_http_requests_total", method="DELETE",
                     route="/api/v1/sessions/{id}", status="401") == 1, text
        assert value(after, "latchkey_http_requests_total", method="GET",
                     route="unmatched", status="404") >= 2, text
        assert value(after, "latchkey_http_request_duration_seconds_count", method="POST",
                     route="/api/v1/auth/signin") == 3, text
        # Register twice, sign in three times (the dummy hash was made at start).
        assert value(after, "latchkey_password_hash_queue_wait_seconds_count") >= 5, text
        # Two verification emails, neither sent.
        assert value(after, "latchkey_outbox_depth") == 2, text
        assert value(after, "latchkey_outbox_oldest_pending_age_seconds") > 0, text
        assert ("latchkey_db_pool_connections_in_use", frozenset()) in after, text
        assert ("latchkey_db_pool_waiting", frozenset()) in after, text
        for leak in (secret_id, "query-secret-value", "/no/such", "forged"):
            assert leak not in text, f"{leak!r} in the metrics"

        # The client's X-Request-Id was not taken; header, body and log agree.
        rid = refused_headers["X-Request-Id"]
        assert rid and rid != "forged-by-the-client", rid
        assert refused_body["requestId"] == rid, refused_body
        events = [e for e in json_lines(server) if request_id_of(e) == rid]
        assert any(e.get("message") == "rate limited" for e in events), events
        assert len(access_lines(server, rid)) == 1, events
        access = access_lines(server, rid)[0]
        assert access["method"] == "POST" and access["route"] == "/api/v1/auth/register"
        assert access["status"] == 429 and access["client"] == "127.0.0.1", access
        assert isinstance(access["duration_ms"], (int, float))
        # One access line per request, none naming a query string or a concrete id.
        lines = json_lines(server)
        accesses = [e for e in lines if e.get("target") == "latchkey::access"]
        ids = [request_id_of(e) for e in accesses]
        assert len(ids) == len(set(ids)), "a request with two access lines"
        served = total(after, "latchkey_http_requests_total")
        # Everything answered before the last scrape (the readiness polls included).
        assert len(accesses) >= served, (len(accesses), served)
        for line in accesses:
            assert "?" not in line["route"] and secret_id not in json.dumps(line), line
        print(f"observability: {len(accesses)} access lines, {int(served)} requests counted, "
              f"{len(lines)} JSON log lines")


def trusted_proxy_ids(binary, workdir):
    env = {"LATCHKEY_TRUSTED_PROXIES": "127.0.0.1", "LATCHKEY_LOG_FORMAT": "json"}
    with rig.Server(binary, workdir, env, name="proxied") as server:
        status, body, headers = rig.request(
            "GET", server.url + "/api/v1/sessions", headers={"X-Request-Id": "nginx-abc-123"})
        assert status == 401 and headers["X-Request-Id"] == "nginx-abc-123", headers
        assert body["requestId"] == "nginx-abc-123", body
        wait_for(lambda: access_lines(server, "nginx-abc-123"), "the access line")
        for unsafe in ("two words", "x" * 200):
            _, body, headers = rig.request("GET", server.url + "/healthz?x",
                                           headers={"X-Request-Id": unsafe})
            assert headers["X-Request-Id"] not in ("", unsafe), headers
    print("request ids: a trusted proxy's id echoed and logged; unsafe ones replaced")


def main(binary):
    with tempfile.TemporaryDirectory(prefix="latchkey-observe-") as workdir:
        traffic_and_scrape(binary, workdir)
        trusted_proxy_ids(binary, workdir)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
