#!/usr/bin/env bash
# Soak (issue 12): lb under mixed load for N minutes, its RSS, heap, native memory, fds and threads
# sampled every 10 s and judged flat or not; at the end lb must still serve, have logged no exception
# and have dropped only the malformed frames it was sent. See soak.py's header for the load and the
# definition of flat.
#
#   sudo benchmarks/harness/soak.sh              # 10 minutes (about 12 in all): writes
#                                                # benchmarks/harness/soak.json
#   sudo benchmarks/harness/soak.sh --minutes 3  # a shorter run: results only in its log directory
#
# Needs root, ip netns, jcmd (the JDK) and lb's jar (bin/lb). Every testbed and process it starts is
# recorded in /run/lb-soak/<id>.state and removed on exit, also on failure or Ctrl-C; nothing else is
# touched. Logs, lb's GC log and this run's soak.json: /tmp/lb-soak-<id>/. Exit status 0 only when
# everything is flat and the end checks pass.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"   # PATH, REPO, PYTHON; harness_need_root, harness_state, harness_run
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) args+=(--minutes "${2:?--minutes needs a number}"); shift 2 ;;
    --minutes=*) args+=(--minutes "${1#--minutes=}"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
harness_need_root soak.sh
for tool in ip ping jcmd java; do
  command -v "$tool" >/dev/null || { echo "soak.sh: $tool missing (apt-get install iproute2 iputils-ping openjdk-17-jdk-headless)" >&2; exit 1; }
done
[ -f "$REPO/lb-control/target/lb.jar" ] || { echo "soak.sh: build lb first: mvn -B -q -o install -DskipTests" >&2; exit 1; }
harness_state /run/lb-soak lb-soak
harness_run "$HERE/soak.py" --state "$state" --logdir "$logdir" --command "sudo benchmarks/harness/soak.sh $*" "${args[@]}"
