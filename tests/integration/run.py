#!/usr/bin/python3
"""run.py - run the integration tests against real services.

    tests/integration/run.py --srcdir=. --builddir=build [-k PATTERN ...] [--keep]

Starts services on demand (harness.py), runs every tests/integration/test_*.py
with unittest, prints a summary, tears everything down and fails if any
process of the stack is still alive afterwards.
"""

import argparse
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def crash_selftest(stack):
    """Starts services, then fails: the caller checks nothing survives."""
    stack.start_redis()
    stack.start_dns({"selftest.example": "www IN A 192.0.2.1"})
    if os.geteuid() == 0:
        stack.start_postfix()
    print(stack.dir, flush=True)
    raise RuntimeError("deliberate failure after starting services")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--srcdir", default=".")
    parser.add_argument("--builddir", default=".")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only tests whose id contains this (repeat for several)")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory")
    parser.add_argument("--crash-selftest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    stack = harness.Stack(os.path.abspath(args.builddir), os.path.abspath(args.srcdir), args.keep)
    harness.set_stack(stack)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = time.monotonic()
    result = None
    try:
        if args.crash_selftest:
            crash_selftest(stack)
        here = os.path.dirname(os.path.abspath(__file__))
        suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
        if args.patterns:
            suite = unittest.TestSuite(t for t in iter_tests(suite)
                                       if any(p in t.id() for p in args.patterns))
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        stack.stop_all()
        reports = stack.sanitizer_reports()
        stack.teardown()
        left = stack.leftovers()
    if args.keep:
        print("stack directory kept:", stack.dir)
    summary = ("integration: %d run, %d failed, %d errors, %d skipped in %.1f s"
               % (result.testsRun, len(result.failures), len(result.errors),
                  len(result.skipped), time.monotonic() - started))
    print(summary)
    if left:
        print("integration: FAIL: still running after teardown:\n  " + "\n  ".join(left))
        return 1
    for name, excerpt in reports:
        print("integration: FAIL: sanitizer report in %s:\n%s" % (name, excerpt))
    if reports:
        return 1
    return 0 if result.wasSuccessful() else 1


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main())
