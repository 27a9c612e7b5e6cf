"""Child processes that cannot outlive the test run, even when pytest is killed."""

from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: the kernel sends SIGKILL to this child when its parent thread dies.

    A killed or timed-out pytest would otherwise leave servers running on a shared machine. Runs
    after Popen's user switch (which would clear the setting). Linux only; a no-op elsewhere.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
