#!/usr/bin/env bash
# The testbed benchmark: lb against kernel forwarding, iptables DNAT and nftables DNAT on the
# netns testbed (docker/testbed.sh), with HTTP (wrk), bulk TCP (iperf3), a small-packet UDP
# sweep (tcpreplay), added latency (sockperf) and the box's CPU per unit of work.
#
#   sudo benchmarks/harness/run.sh           # full: 3 repetitions x 8 peers, about 15 minutes;
#                                            # writes benchmarks/RESULTS.md (section "Testbed
#                                            # benchmark"), benchmarks/harness/results.svg and
#                                            # benchmarks/harness/results.json
#   sudo benchmarks/harness/run.sh --quick   # smoke test: 1 repetition, short steps, about 3
#                                            # minutes; results only in its log directory
#   sudo benchmarks/harness/run.sh --peers lb,iptables   # only these peers (keys: bench.py --help)
#
# Needs root and ip netns. Installs missing tools from Debian's packages (deps.sh), builds lb
# (mvn -o package) when its jar is missing or older than the sources. Every testbed and process
# it starts is recorded in /run/lb-harness/<id>.state and removed on exit, also on failure or
# Ctrl-C; nothing else is touched. Logs: /tmp/lb-harness-<id>/. Details: bench.py's header.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PYTHON=/usr/bin/python3   # a pyenv python may shadow python3 on PATH

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

args=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) args+=(--quick); shift ;;
    --peers) args+=(--peers "$2"); shift 2 ;;
    --peers=*) args+=(--peers "${1#--peers=}"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: must run as root (network namespaces)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 CPUs (the box on CPU 0, the rest on CPU 1)" >&2; exit 1; }

bash "$HERE/deps.sh"

jar="$REPO/lb-control/target/lb.jar"
if [ ! -f "$jar" ] || [ ! -f "$REPO/benchmarks/target/benchmarks.jar" ] || [ -n "$(find "$REPO" -path "$REPO/.git" -prune -o -path '*/target' -prune -o \
    \( -name '*.java' -o -name pom.xml \) -type f -newer "$jar" -print -quit)" ]; then
  echo "run.sh: building lb (mvn -o -q -B -DskipTests package)" >&2
  (cd "$REPO" && mvn -o -q -B -DskipTests package) >&2
fi

mkdir -p /run/lb-harness
id=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
state="/run/lb-harness/$id.state"
logdir="/tmp/lb-harness-$id"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ ! -f "$state" ] || "$PYTHON" "$HERE/bench.py" --cleanup "$state" || true
  exit "$rc"
}
trap cleanup EXIT
# bench.py runs as a child so that Ctrl-C or SIGTERM here reaches it at once (bash would hold a
# trap until a foreground child exits): it stops, removes what it created and exits; the EXIT
# trap then removes anything its state file still lists.
"$PYTHON" "$HERE/bench.py" "${args[@]}" --state "$state" --logdir "$logdir" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
rc=0
wait "$child" || rc=$?
while kill -0 "$child" 2>/dev/null; do   # wait was cut short by a signal: wait for the exit
  rc=0
  wait "$child" || rc=$?
done
exit "$rc"
