"""gunicorn settings of 网格学堂: the service unit, `make serve` and the benchmarks all start from this file.

Sync workers, two per core, behind nginx, which buffers slow tablets' requests and responses (the condition
gunicorn's documentation sets for sync workers). Threads were measured against them on the 2-core machine
(bench/RESULTS.md, 2026-11-28): Python threads of one process take turns on one interpreter lock, which every
database call hands over, so a request also waits out its neighbours' turns. With 2 workers × 4 threads the
exam peak's p99 was 423 ms; with 4 sync workers 258 ms (target 300), with the same code, data and client.

More workers: GUNICORN_CMD_ARGS="--workers 8" (or --workers on the command line) overrides this file.
"""
import os

workers = 2 * (os.cpu_count() or 1)
worker_class = "sync"
# The largest downloads (a certificate PDF ZIP of a whole county) stream for longer than the default 30 s.
timeout = 120
graceful_timeout = 30
# No access log here: nginx keeps one with the real client address (`make serve` asks for one on stdout).
accesslog = None


def _without_server_header(default_headers):
    """gunicorn writes `Server: gunicorn` before the app's headers, with no setting to turn it off: an attacker
    learns which server (and so which known flaws) to try. The config file runs in the master before it forks
    the workers, so the patched response class is theirs too; a reload (HUP) re-reads this file, hence the mark."""
    if getattr(default_headers, "lms_without_server", False):
        return default_headers

    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.lms_without_server = True
    return headers


from gunicorn.http import wsgi as _gunicorn_wsgi  # noqa: E402  (after the settings: only this patch needs it)

_gunicorn_wsgi.Response.default_headers = _without_server_header(_gunicorn_wsgi.Response.default_headers)
