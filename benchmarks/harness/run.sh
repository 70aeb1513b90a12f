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
#   sudo benchmarks/harness/run.sh --ipv6    # IPv6: lb against ip6tables DNAT on the dual-stack
#                                            # testbed, HTTP and bulk TCP only; report in the log
#                                            # directory (--peers ip6tables,lb6,iptables,lb: both families)
#
# Needs root and ip netns. Installs missing tools from Debian's packages (deps.sh), builds lb
# (mvn -o package) when its jar is missing or older than the sources. Every testbed and process
# it starts is recorded in /run/lb-harness/<id>.state and removed on exit, also on failure or
# Ctrl-C; nothing else is touched. Logs: /tmp/lb-harness-<id>/. Details: bench.py's header.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"   # PATH, REPO, PYTHON; harness_need_root, harness_state, harness_run

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

args=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) args+=(--quick); shift ;;
    --ipv6) args+=(--ipv6); shift ;;
    --peers) args+=(--peers "$2"); shift 2 ;;
    --peers=*) args+=(--peers "${1#--peers=}"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
harness_need_root run.sh
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 CPUs (the box on CPU 0, the rest on CPU 1)" >&2; exit 1; }

bash "$HERE/deps.sh"

jar="$REPO/lb-control/target/lb.jar"
if [ ! -f "$jar" ] || [ ! -f "$REPO/benchmarks/target/benchmarks.jar" ] || [ -n "$(find "$REPO" -path "$REPO/.git" -prune -o -path '*/target' -prune -o \
    \( -name '*.java' -o -name pom.xml \) -type f -newer "$jar" -print -quit)" ]; then
  echo "run.sh: building lb (mvn -o -q -B -DskipTests package)" >&2
  (cd "$REPO" && mvn -o -q -B -DskipTests package) >&2
fi

harness_state /run/lb-harness lb-harness
harness_run "$HERE/bench.py" "${args[@]}" --state "$state" --logdir "$logdir"
