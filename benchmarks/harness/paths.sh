#!/usr/bin/env bash
# Seeds 003 and 002 live (E1, E2): lb's route services and the kernel's multipath / iptables
# spreading over shaped parallel paths. See paths.py's header for what is measured and how.
#
#   sudo benchmarks/harness/paths.sh                      # E1 + E2, 1 repetition, ~20 minutes:
#                                                         # writes benchmarks/harness/paths.json
#   sudo benchmarks/harness/paths.sh --write-results      # also replaces the RESULTS.md section
#   sudo benchmarks/harness/paths.sh --experiments e1 --peers lb-packet,kernel-mp --reps 2
#
# Needs root, ip netns, iperf3, iptables-legacy, tc, ethtool, nstat and lb's jar (bin/lb). Every
# namespace and process it starts is recorded in /run/lb-paths/<id>.state and removed on exit,
# also on failure or Ctrl-C; nothing else is touched. Logs: /tmp/lb-paths-<id>/.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/common.sh"   # PATH, REPO, PYTHON; harness_need_root, harness_state, harness_run
case "${1:-}" in -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
harness_need_root paths.sh
for tool in ip tc ethtool nstat iperf3 iptables-legacy ping; do
  command -v "$tool" >/dev/null || { echo "paths.sh: $tool missing (apt-get install iproute2 ethtool iperf3 iptables iputils-ping)" >&2; exit 1; }
done
[ -f "$REPO/lb-control/target/lb.jar" ] || { echo "paths.sh: build lb first: mvn -B -q -o install -DskipTests" >&2; exit 1; }
harness_state /run/lb-paths lb-paths
harness_run "$HERE/paths.py" --state "$state" --logdir "$logdir" --command "sudo benchmarks/harness/paths.sh $*" "$@"
