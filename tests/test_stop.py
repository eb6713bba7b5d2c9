"""SIGTERM or Ctrl-C during the crawl: the run stops within seconds, whatever it is waiting for.

Each test starts a real `dfe-monitor run` against the fixture server, waits until the run is in
the middle of a wait (a 5 s download delay, a 300 s Retry-After, a request the server never
answers), sends the signal and measures how long the process takes to end. Every stop must
end the same way: exit 143, one line on stderr, the run recorded "aborted", nothing processed,
the feed untouched.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from support.faults import PRIVACY, scenario, start_monitor, stderr_lines, wait_for

from monitor.demo.server import Fault

API_PRIVACY = f"/api/content{PRIVACY}"
STOP_BOUND_SECONDS = 6.0  # the aim is under 3 s; the bound leaves room for a loaded machine


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    with scenario(tmp_path_factory.mktemp("stop")) as s:
        s.run()
        yield s


@pytest.fixture
def s(baseline, tmp_path):
    baseline.server.clear_faults()
    forked = baseline.fork(tmp_path / "work")
    yield forked
    baseline.server.clear_faults()


def stop_while(s, ready, what: str, signum: int = signal.SIGTERM) -> tuple[subprocess.CompletedProcess[str], float]:
    """Start a run, wait until ``ready()``, send ``signum``; the finished run and the seconds
    from the signal to the end of the process."""
    victim = start_monitor(s.config)
    try:
        wait_for(lambda: ready() or victim.poll() is not None, 60, what)
        assert victim.poll() is None, f"the run ended before it could be stopped: {victim.communicate()}"
        time.sleep(0.3)  # well inside the wait now
        sent = time.monotonic()
        victim.send_signal(signum)
        stdout, stderr = victim.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.communicate()
    print(f"\n{what}: {signal.Signals(signum).name} to exit in {took:.2f} s")
    return subprocess.CompletedProcess(victim.args, victim.returncode, stdout, stderr), took


def assert_stopped_cleanly(s, result, took: float, before) -> None:
    assert result.returncode == 143, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert took < STOP_BOUND_SECONDS, f"the run took {took:.2f} s to stop"
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: the run was stopped (shutdown) before the crawl finished;"), line
    assert s.last_run()[1] == "aborted"
    assert s.snapshot() == before, "a stopped run must not process anything or touch the feed"


def test_sigterm_during_a_long_download_delay(s):
    s.write_config(fetch={"delay_seconds": 5})
    before = s.snapshot()
    mark = s.mark()
    result, took = stop_while(s, lambda: len(s.requests_since(mark)) >= 2, "a 5 s download delay")
    assert_stopped_cleanly(s, result, took, before)
    assert len(s.requests_since(mark)) == 2, "a request was sent after the signal"


def test_sigint_during_a_long_download_delay(s):
    s.write_config(fetch={"delay_seconds": 5})
    before = s.snapshot()
    mark = s.mark()
    result, took = stop_while(s, lambda: len(s.requests_since(mark)) >= 2, "a 5 s download delay", signal.SIGINT)
    assert_stopped_cleanly(s, result, took, before)


def test_sigterm_while_waiting_out_a_retry_after(s):
    s.server.add_fault(API_PRIVACY, Fault(kind="status", status=503, retry_after="300"))
    before = s.snapshot()
    mark = s.mark()
    result, took = stop_while(s, lambda: len(s.requests_since(mark, API_PRIVACY)) >= 1, "a 300 s Retry-After")
    assert_stopped_cleanly(s, result, took, before)
    assert len(s.requests_since(mark, API_PRIVACY)) == 1


def test_sigterm_while_a_request_is_stalled(s):
    s.write_config(fetch={"timeout_seconds": 30})
    s.server.add_fault(API_PRIVACY, Fault(kind="stall"))
    before = s.snapshot()
    mark = s.mark()
    result, took = stop_while(s, lambda: len(s.requests_since(mark, API_PRIVACY)) >= 1, "a stalled request (timeout 30 s)")
    assert_stopped_cleanly(s, result, took, before)


def test_the_stop_handlers_are_put_back_whatever_happens():
    import signal

    from monitor import stopsignals

    before = {sig: signal.getsignal(sig) for sig in stopsignals.STOP_SIGNALS}
    heard = []
    with pytest.raises(RuntimeError), stopsignals.handling(lambda signum, frame: heard.append(signum)):
        signal.raise_signal(signal.SIGTERM)
        raise RuntimeError("the work failed")
    assert heard == [signal.SIGTERM]
    assert {sig: signal.getsignal(sig) for sig in stopsignals.STOP_SIGNALS} == before
