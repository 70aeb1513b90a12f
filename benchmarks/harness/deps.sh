#!/usr/bin/env bash
# Installs the tools the testbed benchmark (benchmarks/harness/run.sh) uses, from Debian's
# packages, only when one is missing; then the testbed's own tools (docker/deps.sh). Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATH="$PATH:/usr/sbin:/sbin"
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have wrk       || need+=(wrk)
have iperf3    || need+=(iperf3)
have tcpreplay || need+=(tcpreplay)
have nginx     || need+=(nginx-light)
have iptables  || need+=(iptables)
have nft       || need+=(nftables)
have conntrack || need+=(conntrack)
have sockperf  || need+=(sockperf)
have taskset   || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "harness deps: missing packages: ${need[*]} (run as root, or: apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "harness deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # iperf3 asks whether to start a daemon at boot: no.
  echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
bash "$HERE/../../docker/deps.sh"
