#!/usr/bin/env bash
# The lb image's entrypoint: finds lb's two interfaces by the subnet Docker addressed them in
# (Docker does not keep the compose file's network order, and names change across restarts),
# takes them away from the container's kernel and runs lb on them.
#
#   LB_CLIENT_NET  the clients' network, e.g. 198.19.10.0/24 (required)
#   LB_SERVER_NET  the servers' network, e.g. 198.19.11.0/24 (required)
#   arguments      passed to bin/lb after --client-if and --server-if (addresses, VIPs, backends)
set -euo pipefail

die() { echo "lb-entrypoint: error: $*" >&2; exit 1; }

ip_to_int() { # dotted quad
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# The interface holding an IPv4 address inside NET (a.b.c.d/len).
interface_in() { # net
  local net=${1%/*} len=${1#*/} mask dev addr
  [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$ ]] || die "bad network '$1' (want a.b.c.d/len)"
  mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
  while read -r _ dev _ addr _; do
    if (($(( $(ip_to_int "${addr%/*}") & mask )) == $(( $(ip_to_int "$net") & mask )))); then
      echo "${dev%@*}"
      return 0
    fi
  done < <(ip -o -4 addr show)
  return 1
}

[ -n "${LB_CLIENT_NET:-}" ] || die "LB_CLIENT_NET is not set (the clients' network, a.b.c.d/len)"
[ -n "${LB_SERVER_NET:-}" ] || die "LB_SERVER_NET is not set (the servers' network, a.b.c.d/len)"
client_if=$(interface_in "$LB_CLIENT_NET") || die "no interface has an address in LB_CLIENT_NET $LB_CLIENT_NET"
server_if=$(interface_in "$LB_SERVER_NET") || die "no interface has an address in LB_SERVER_NET $LB_SERVER_NET"
echo "lb-entrypoint: client side $client_if ($LB_CLIENT_NET), server side $server_if ($LB_SERVER_NET)" >&2

for dev in "$client_if" "$server_if"; do
  # lb answers ARP and ping for its own addresses in user space: the kernel must not hold the
  # ones Docker gave, or it would answer too (and send RSTs for lb's flows).
  ip addr flush dev "$dev"
  # Wire-size frames with complete checksums, as an appliance's NICs send them: the kernel
  # segments and checksums what lb forwards (as docker/testbed.sh does for lb's namespace).
  ethtool -K "$dev" tso off gso off tx off >/dev/null
  # lb's packet sockets see every frame before tc ingress; the kernel need not parse them after.
  tc qdisc add dev "$dev" clsact
  tc filter add dev "$dev" ingress bpf da bytecode "1,6 0 0 2,"
done
mkdir -p /run/lb
exec /opt/lb/bin/lb --client-if "$client_if" --server-if "$server_if" "$@"
