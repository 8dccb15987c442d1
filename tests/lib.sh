# Shared by the shell tests (tests/sys_*.sh): the result lines that
# tests/run-tests.sh counts, and `failed`, the script's exit status.
# Source it: . "$(dirname "$0")/lib.sh"
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }
