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
