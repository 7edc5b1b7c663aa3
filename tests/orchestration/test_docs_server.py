"""`seatshift docs`, started as an operator starts it, serves the sample warehouse's dbt docs and
GX Data Docs on 127.0.0.1 and stops on Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestration.lib import docs_site, expectations, settings
from tests.conftest import REPO_ROOT, SEATSHIFT, refresh_environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def docs_server(warehouse: Path, port: int) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [str(SEATSHIFT), "docs", "--port", str(port), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=refresh_environment(),
        cwd=REPO_ROOT,
        # As a terminal starts it: Ctrl-C interrupts. A suite started in the background of a
        # non-interactive shell (`make test &`) inherits SIGINT ignored, and Python then never
        # turns it into KeyboardInterrupt: the server would not stop, whatever its code.
        preexec_fn=_interruptible,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read()
                    raise AssertionError(f"seatshift docs did not start: {output}") from error
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], ""


def test_docs_serves_the_dbt_docs_and_the_data_docs_until_ctrl_c(sample_warehouse):
    port = _free_port()
    with docs_server(sample_warehouse, port) as process:
        base = f"http://127.0.0.1:{port}"
        status, _, index = _get(base + "/")
        assert status == 200
        assert "href='/dbt/'" in index and "href='/data-docs/index.html'" in index
        # one link per validated export, to its own GX site
        exports = sorted(
            path.parent.name
            for path in settings.data_docs_dir(sample_warehouse).glob(
                f"*/{expectations.OUTCOME_FILE}"
            )
        )
        assert exports and all(f"/data-docs/{export}/index.html" in index for export in exports)

        status, content_type, dbt_page = _get(base + "/dbt/")
        assert status == 200 and content_type.startswith("text/html")
        assert "exposure.seatshift.overview" in dbt_page  # the static page: manifest inline
        published_docs = settings.dbt_docs_dir(sample_warehouse) / settings.DBT_DOCS_INDEX
        assert dbt_page == published_docs.read_text(encoding="utf-8")

        status, _, gx_page = _get(f"{base}/data-docs/{exports[0]}/index.html")
        assert status == 200 and "Great Expectations" in gx_page  # GX's own site
        summary = json.loads(
            (
                settings.data_docs_dir(sample_warehouse) / exports[0] / docs_site.OUTCOME_FILE
            ).read_text()
        )
        assert summary["export"] == exports[0]

        # nothing outside the two sites is reachable
        for path in ("/seatshift.duckdb", "/dbt/../seatshift.duckdb", "/data-docs/../../etc/hosts"):
            assert _get(base + path)[0] == 404, path

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert "serving the docs of" in process.stdout.read()


def test_docs_binds_loopback_only_and_says_when_the_port_is_taken(sample_warehouse):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [str(SEATSHIFT), "docs", "--port", str(port), "--warehouse", str(sample_warehouse)],
            capture_output=True,
            text=True,
            env=refresh_environment(),
            cwd=REPO_ROOT,
            timeout=60,
        )
    assert run.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in run.stderr


def test_the_outcome_file_name_is_the_one_expectations_writes():
    assert docs_site.OUTCOME_FILE == expectations.OUTCOME_FILE


@pytest.mark.parametrize("present", [False, True])
def test_the_index_page_says_what_is_missing(tmp_path, present):
    published = tmp_path / "seatshift.duckdb"
    if present:
        site = settings.dbt_docs_dir(published)
        site.mkdir()
        (site / settings.DBT_DOCS_INDEX).write_text("dbt")
    page = docs_site.index_page(published)
    assert ("href='/dbt/'" in page) is present
    assert ("dbt docs: not generated yet" in page) is not present
    assert "Great Expectations Data Docs: none yet" in page


def test_the_dashboards_docs_server_starts_on_a_later_page_run_once_its_port_is_free(tmp_path):
    """The dashboard serves the docs from a thread of its own (dashboards.lib.docs.serve, called
    on every page run). While something else holds the port it cannot, and says so; once the port
    is free the next page run starts the server, without a restart of the dashboard."""
    from dashboards.lib import docs

    warehouse = str(tmp_path / "seatshift.duckdb")  # no build yet: the index page says so
    port = _free_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        assert docs.serve(warehouse, port) is False
        assert docs.serve(warehouse, port) is False  # still taken: still False
    finally:
        holder.close()
    try:
        assert docs.serve(warehouse, port) is True
        status, _, index = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and warehouse in index
        assert docs.serve(warehouse, port) is True  # the same server, not a second one
        assert list(docs._SERVERS).count((warehouse, port)) == 1
    finally:
        server = docs._SERVERS.pop((warehouse, port), None)
        if server is not None:
            server.shutdown()
            server.server_close()
