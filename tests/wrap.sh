#!/bin/sh
# Run a test program under $DD_WRAPPER when the test setup sets one
# (meson test --setup=valgrind); as it is otherwise.
exec ${DD_WRAPPER:-} "$@"
