"""Shared by the siphond tests: poll until a condition holds."""
import time


def wait_for(cond, timeout=10.0, what="condition"):
    """cond()'s first true value, polled every 20 ms; AssertionError after
    timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)
