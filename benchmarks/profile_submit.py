"""In-process cost of the survey page and the answer: the real app against the bare app,
both through Flask's test client (no server, no network), on a database set up as
``submit.py`` sets it up. Not part of the test run.

    .venv/bin/python benchmarks/profile_submit.py sqlite time        # ms per GET and POST, and the ratios
    .venv/bin/python benchmarks/profile_submit.py postgresql time    # (a database on --pg-url's server)
    .venv/bin/python benchmarks/profile_submit.py sqlite get 2000    # cProfile of 2,000 GETs, by cumulative time
    .venv/bin/python benchmarks/profile_submit.py sqlite post 2000   # of 2,000 POSTs

``time`` prints the best of five rounds (GET: N requests, POST: N/4) for each app; the
requests are made as the benchmark's client makes them (each phone its own user agent and
loopback address, the POST with the session cookie of its GET). cProfile inflates small
calls: read its shares, not its milliseconds. The PostgreSQL databases ``hailong_profile``
and ``hailong_profile_bare`` are made anew each run and dropped at the end.
"""
from __future__ import annotations

import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import sqlalchemy as sa  # noqa: E402

import bare_app  # noqa: E402
import submit  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    mode = sys.argv[2] if len(sys.argv) > 2 else "time"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    names = ("hailong_profile", "hailong_profile_bare")
    admin = None
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="hailong-profile-"))
        url, bare_url = f"sqlite:///{tmp}/real.sqlite3", f"sqlite:///{tmp}/bare.sqlite3"
    else:
        admin = sa.create_engine(submit.sa_url(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        base = PG_URL.rsplit("/", 1)[0]
        url, bare_url = f"{base}/{names[0]}", f"{base}/{names[1]}"
    try:
        run(mode, n, url, bare_url)
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def run(mode: str, n: int, url: str, bare_url: str) -> None:
    env = submit.real_env(url)
    keys, comment = submit.set_up_real(url, env)
    os.environ.update(env)
    from survey_app import create_app

    real = create_app().test_client(use_cookies=False)
    os.environ["BARE_DATABASE_URL"] = submit.sa_url(bare_url)
    bare_app.create_tables(submit.sa_url(bare_url))
    bare = bare_app.create_app().test_client(use_cookies=False)

    def phone(i: int) -> tuple[dict, dict]:
        ua = f"{submit.PHONE} phone/{i}"
        return {"User-Agent": ua, "Accept-Language": "vi"}, {"REMOTE_ADDR": submit.phone_address(ua)}

    def real_get(i: int):
        headers, environ = phone(i)
        page = real.get(f"/s/{submit.POINT}", headers=headers, environ_base=environ)
        assert page.status_code == 200, page.status_code
        return page

    def real_form(i: int):
        page = real_get(i)
        html = page.get_data(as_text=True)
        fields = dict(submit.HIDDEN_RE.findall(html))
        action = submit.ACTION_RE.search(html).group(1).replace("&amp;", "&")
        cookie = "; ".join(v.split(";", 1)[0] for v in page.headers.getlist("Set-Cookie"))
        return {**fields, **submit.answer_form(random.Random(i), keys, comment)}, action, cookie

    def real_post(i: int, form: dict, action: str, cookie: str) -> None:
        headers, environ = phone(i)
        sent = real.post(action, data=form, headers={**headers, "Cookie": cookie}, environ_base=environ)
        assert sent.status_code == 303, sent.status_code

    def bare_get(i: int) -> None:
        assert bare.get(f"/s/{submit.POINT}", headers=phone(i)[0]).status_code == 200

    def bare_post(i: int, form: dict) -> None:
        assert bare.post(f"/s/{submit.POINT}", data=form, headers=phone(i)[0]).status_code == 303

    for i in range(50):  # warm: compiled statements, kept markup, pooled connections
        real_get(i), bare_get(i)

    if mode == "time":
        def ms(work, count: int) -> float:
            started = time.perf_counter()
            work()
            return (time.perf_counter() - started) / count * 1000

        rounds = {"real GET": [], "bare GET": [], "real POST": [], "bare POST": []}
        for r in range(5):
            rounds["real GET"].append(ms(lambda: [real_get(i) for i in range(n)], n))
            rounds["bare GET"].append(ms(lambda: [bare_get(i) for i in range(n)], n))
            k = max(1, n // 4)
            forms = [real_form(100_000 * (r + 1) + i) for i in range(k)]
            answers = [submit.answer_form(random.Random(i), keys, comment) for i in range(k)]
            rounds["real POST"].append(ms(lambda: [real_post(100_000 * (r + 1) + i, *forms[i]) for i in range(k)], k))
            rounds["bare POST"].append(ms(lambda: [bare_post(i, answers[i]) for i in range(k)], k))
        best = {name: min(values) for name, values in rounds.items()}
        print(f"GET real {best['real GET']:.3f} ms, bare {best['bare GET']:.3f} ms, "
              f"ratio {best['bare GET'] / best['real GET']:.2f}; POST real {best['real POST']:.3f} ms, "
              f"bare {best['bare POST']:.3f} ms; pair ratio "
              f"{(best['bare GET'] + best['bare POST']) / (best['real GET'] + best['real POST']):.2f}")
        return
    profile = cProfile.Profile()
    if mode == "get":
        profile.enable()
        for i in range(n):
            real_get(i)
        profile.disable()
    else:
        forms = [real_form(1000 + i) for i in range(n)]
        profile.enable()
        for i in range(n):
            real_post(1000 + i, *forms[i])
        profile.disable()
    stats = pstats.Stats(profile).sort_stats(os.environ.get("SORT", "cumulative"))
    if os.environ.get("CALLEES"):
        stats.print_callees(os.environ["CALLEES"])
    else:
        stats.print_stats(60)


if __name__ == "__main__":
    main()
