#!/bin/bash
# Harness self-test: a scenario that fails must be reported as failed.
# expect: fail
. "$QBD_ROOT/tests/vm/lib.sh"
die "failing on purpose"
