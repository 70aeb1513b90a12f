# Sourced by run.sh and paths.sh (after set -euo pipefail and HERE, the harness's directory):
# the run's state file and log directory, the Python script as a child, and the EXIT trap that
# removes whatever the state file still lists (SCRIPT --cleanup STATE).
PATH="$PATH:/usr/sbin:/sbin"
REPO=$(cd "$HERE/../.." && pwd)
PYTHON=/usr/bin/python3   # a pyenv python may shadow python3 on PATH

# harness_need_root NAME: exits unless root.
harness_need_root() {
  [ "$(id -u)" -eq 0 ] || { echo "$1: must run as root (network namespaces)" >&2; exit 1; }
}

# harness_state DIR LOGNAME: a fresh run id; sets id, state (DIR/<id>.state) and logdir
# (/tmp/LOGNAME-<id>).
harness_state() {
  mkdir -p "$1"
  id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
  state="$1/$id.state"
  logdir="/tmp/$2-$id"
}

harness_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ ! -f "$state" ] || "$PYTHON" "$harness_script" --cleanup "$state" || true
  exit "$rc"
}

# harness_run SCRIPT ARG...: runs $PYTHON SCRIPT ARG... and exits with its status. The script
# runs as a child so that Ctrl-C or SIGTERM here reaches it at once (bash would hold a trap
# until a foreground child exits): it stops, removes what it created and exits; the EXIT trap
# then removes anything its state file ($state) still lists.
harness_run() {
  harness_script=$1
  trap harness_cleanup EXIT
  "$PYTHON" "$@" &
  harness_child=$!
  trap 'kill -TERM "$harness_child" 2>/dev/null || true' INT TERM
  local rc=0
  wait "$harness_child" || rc=$?
  while kill -0 "$harness_child" 2>/dev/null; do   # wait was cut short by a signal: wait for the exit
    rc=0
    wait "$harness_child" || rc=$?
  done
  exit "$rc"
}
