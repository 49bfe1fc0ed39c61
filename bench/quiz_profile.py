"""In-process CPU and statements per quiz request: start, autosave, submit (passing and failing).

Usage: python bench/quiz_profile.py [--database-url URL] [--workers 200] [--saves 20] [--keep DIR]
                                    [--profile start|save|submit-pass|submit-fail] [--top 30]
Builds the county the way bench/run.py's prepare() does (an EMPTY database: SQLite in a temporary folder by
default; --keep DIR reuses/creates an SQLite file there so repeated runs skip the preparation), logs N workers
in with Flask's test client, then times the requests of each phase with time.process_time and counts the
statements each one runs (a before_cursor_execute listener). The first few workers warm the per-process caches
(pools, rendered texts, compiled statements) and are not counted, as in a long-running gunicorn worker.
Half of the measured workers answer every question right (their submit passes and runs the signal handlers),
the other half answer wrongly (a failing submit records 20 mistakes).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import prepare  # noqa: E402  (path set above)

QUIZ = "bench-exam"  # the exam peak's quiz (bench/run.py: 20 questions, no attempt limit)
WARM = 4


def correct_answers(attempt_id: int) -> dict:
    """qid -> the right answer in the attempt's display letters (read server-side: the client never sees it)."""
    import sqlalchemy as sa

    from lms.extensions import db
    from lms.quizzes import draw as drawing
    from lms.quizzes.models import Attempt
    from lms.quizzes.questions import answer_to_json, question_from_dict

    paper = db.session.execute(sa.select(Attempt.paper).where(Attempt.id == attempt_id)).scalar_one()
    db.session.rollback()
    out = {}
    for data in paper:
        question = question_from_dict(data["question"])
        item = drawing.item_from_stored(data, question)
        right = answer_to_json(question.type, drawing.to_display(question, question.answer, item.key_map))
        out[item.qid] = [alternatives[0] for alternatives in right] if question.type == "fill" else right
    return out


def wrong_answer(question: dict, right):
    kind = question["type"]
    if kind == "judge":
        return not right
    if kind == "fill":
        return ["错"] * len(right)
    keys = [o["key"] for o in question["options"]]
    if kind == "single":
        return next(k for k in keys if k != right)
    wrong = [k for k in keys if k not in right][:1]
    return wrong or keys[:1]


class Meter:
    """CPU seconds and statements per phase."""

    def __init__(self, engine):
        import sqlalchemy as sa

        self.statements = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)
        self.cpu: dict[str, list[float]] = {}
        self.stmts: dict[str, list[int]] = {}
        self.profiler: cProfile.Profile | None = None
        self.profile_phase = ""
        #: --show-sql: the statements of the first measured request of each phase
        self.shown: set[str] = set()
        self.show_sql = False
        self.show: list[str] | None = None

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        if self.show is not None:
            self.show.append(" ".join(statement.split())[:160])

    def run(self, phase: str, fn, record: bool = True):
        profile = record and self.profiler is not None and phase == self.profile_phase
        if self.show_sql and record and phase not in self.shown:
            self.shown.add(phase)
            self.show = []
        before, cpu = self.statements, time.process_time()
        if profile:
            self.profiler.enable()
        result = fn()
        if profile:
            self.profiler.disable()
        cpu = time.process_time() - cpu
        if self.show is not None:
            print(f"-- {phase}:", *self.show, sep="\n   ")
            self.show = None
        if record:
            self.cpu.setdefault(phase, []).append(cpu)
            self.stmts.setdefault(phase, []).append(self.statements - before)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite in a temporary folder)")
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--saves", type=int, default=20, help="autosaves per worker (each a question of the paper)")
    parser.add_argument("--keep", help="folder for an SQLite database kept between runs (prepared once)")
    parser.add_argument("--profile", choices=["start", "save", "submit-pass", "submit-fail"])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one request per phase")
    args = parser.parse_args()
    tmp = None
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory()
        folder = Path(tmp.name)
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
           "LMS_SQLALCHEMY_DATABASE_URI": url}
    env.pop("LMS_TEST_DATABASE_URL", None)
    users_file = folder / "users.txt"
    if args.keep and users_file.exists():
        usernames = users_file.read_text().split()
    else:
        began = time.monotonic()
        usernames = prepare(env, args.workers + WARM, folder, attempts=10 * (args.workers + WARM))  # as exam_peak.py
        users_file.write_text("\n".join(usernames))
        print(f"prepared {len(usernames)} workers in {time.monotonic() - began:.1f} s", flush=True)
    usernames = usernames[:args.workers + WARM]
    os.environ.update({k: env[k] for k in ("LMS_SECRET_KEY", "LMS_IDLE_TIMEOUT_MINUTES",
                                           "LMS_SQLALCHEMY_DATABASE_URI")})
    os.environ.pop("LMS_TEST_DATABASE_URL", None)

    from bench.generate import BENCH_PASSWORD
    from lms import create_app
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine
    meter = Meter(engine)
    meter.show_sql = args.show_sql
    if args.profile:
        meter.profiler, meter.profile_phase = cProfile.Profile(), args.profile

    began = time.monotonic()
    clients = []
    for username in usernames:
        client = app.test_client()
        reply = client.post("/api/v1/session", json={"username": username, "password": BENCH_PASSWORD})
        assert reply.status_code == 200, reply.get_data(as_text=True)
        clients.append((client, {"X-CSRFToken": reply.get_json()["csrf_token"]}))
    print(f"logins: {len(clients)} in {time.monotonic() - began:.1f} s", flush=True)

    # Start (an open attempt from an earlier --keep run is submitted first, so every start draws a paper).
    papers = []
    for i, (client, headers) in enumerate(clients):
        reply = meter.run("start", lambda: client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=headers),
                          record=i >= WARM)
        if reply.status_code == 200:  # an open attempt left by an earlier run: submit it, start again
            client.post(f"/api/v1/attempts/{reply.get_json()['id']}/submit", headers=headers)
            if i >= WARM:
                meter.cpu["start"].pop(), meter.stmts["start"].pop()
            reply = meter.run("start", lambda: client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=headers),
                              record=i >= WARM)
        assert reply.status_code == 201, reply.get_data(as_text=True)
        papers.append(reply.get_json())
        if i == WARM:
            print(f"start reply: {len(reply.get_data())} bytes", flush=True)
    with app.app_context():
        keys = [correct_answers(paper["id"]) for paper in papers]

    # Saves, interleaved across workers as in the exam; even workers answer right, odd ones wrong.
    for k in range(args.saves):
        for i, ((client, headers), paper) in enumerate(zip(clients, papers)):
            question = paper["questions"][k % len(paper["questions"])]
            right = keys[i][question["qid"]]
            answer = right if i % 2 == 0 else wrong_answer(question, right)
            reply = meter.run("save", lambda: client.put(
                f"/api/v1/attempts/{paper['id']}/answers/{question['qid']}", headers=headers,
                json={"answer": answer, "seq": k + 1}), record=i >= WARM)
            assert reply.status_code == 200 and not reply.get_json()["stale"], reply.get_data(as_text=True)

    for i, ((client, headers), paper) in enumerate(zip(clients, papers)):
        phase = "submit-pass" if i % 2 == 0 else "submit-fail"
        reply = meter.run(phase, lambda: client.post(f"/api/v1/attempts/{paper['id']}/submit", headers=headers),
                          record=i >= WARM)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        assert reply.get_json()["passed"] == (i % 2 == 0 and args.saves >= 20), reply.get_json()["score"]
        meter.run("submit-again", lambda: client.post(f"/api/v1/attempts/{paper['id']}/submit", headers=headers),
                  record=i >= WARM)

    load = os.getloadavg()
    db_kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{db_kind}, {args.workers} measured workers (+{WARM} warm-up), {args.saves} saves each; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| request | n | CPU ms mean | CPU ms median | statements mean |")
    print("| --- | --- | --- | --- | --- |")
    for phase in ("start", "save", "submit-pass", "submit-fail", "submit-again"):
        cpu, stmts = meter.cpu.get(phase, []), meter.stmts.get(phase, [])
        if not cpu:
            continue
        median = sorted(cpu)[len(cpu) // 2]
        print(f"| {phase} | {len(cpu)} | {1000 * sum(cpu) / len(cpu):.2f} | {1000 * median:.2f} | "
              f"{sum(stmts) / len(stmts):.1f} |")
    if meter.profiler is not None:
        out = io.StringIO()
        pstats.Stats(meter.profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(meter.profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
