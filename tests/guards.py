"""A bound on work that must end, for tests of super-linear behaviour.

Not a speed measurement (those belong in bench/): the bound is tens of times
what the work takes, and it exists so that the old, quadratic code fails the
test in seconds instead of running for minutes. A regular-expression search
checks for signals as it runs, so the alarm interrupts even that.
"""

import contextlib
import signal
from collections.abc import Iterator

import pytest


class _TooLong(Exception):
    pass


@contextlib.contextmanager
def finishes_within(seconds: float, what: str) -> Iterator[None]:
    """Fail the test when the block runs longer than ``seconds`` (main thread only)."""

    def alarm(signum, frame):
        raise _TooLong

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TooLong:
        pytest.fail(f"{what} did not finish within {seconds} s", pytrace=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
