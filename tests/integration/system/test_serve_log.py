"""`outreach serve`: the development server's request log keeps no query strings (searches carry names)."""

from __future__ import annotations

import logging
import threading
import urllib.parse
import urllib.request

from flask import Flask
from werkzeug.serving import make_server

from outreach import cli


def _serve_once(url_path: str, caplog) -> str:  # type: ignore[no-untyped-def]
    app = Flask("probe")
    app.add_url_rule("/patrons", "patrons", lambda: "ok")
    server = make_server("127.0.0.1", 0, app, request_handler=cli._request_handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{url_path}") as response:
                assert response.status == 200
    finally:
        server.shutdown()
        thread.join(5)
    return caplog.text


def test_a_patron_search_is_logged_without_its_query(caplog):
    query = urllib.parse.urlencode({"q": "宅配 花子", "phone": "0798-11-2222"})
    log = _serve_once(f"/patrons?{query}", caplog)
    assert '"GET /patrons HTTP/1.1" 200' in log
    assert "宅配" not in log and "0798" not in log and "q=" not in log and "%E5" not in log


def test_a_malformed_request_line_is_logged_without_its_query():
    records: list[str] = []
    handler = cli._request_handler()
    probe = handler.__new__(handler)
    probe.log = lambda kind, message, *args: records.append(message % args)  # type: ignore[method-assign]
    probe.log_error("code %d, message %s", 400, "Bad request syntax ('GET /patrons?q=宅配 花子 HTTP/1.1')")
    assert records == ["code 400, message Bad request syntax ('GET /patrons HTTP/1.1')"]


def test_serve_runs_the_server_with_that_handler(app, monkeypatch):
    calls = {}
    monkeypatch.setattr("outreach.migrate.upgrade", lambda engine: None)
    monkeypatch.setattr(type(app), "run", lambda self, **options: calls.update(options))
    result = app.test_cli_runner().invoke(cli.outreach_group, ["serve", "--no-demo", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert calls["port"] == 5999 and calls["request_handler"].__name__ == "PathOnlyRequestHandler"
