#!/usr/bin/env bash
# The lb testbed: network namespaces joined by veths and Linux bridges, with clients, a
# router, backend servers and an empty namespace for lb. See usage() below, or run with --help.
#
# Every namespace is named "<prefix>-<role>". What `up` creates (and what `servers` and `demo`
# start) is recorded in /run/lb-testbed/<prefix>.state; `down` deletes exactly those namespaces
# and kills exactly those PIDs, nothing else.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"   # ip, sysctl and ethtool live there; sudo or su may leave it out

readonly STATE_DIR=/run/lb-testbed
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
readonly REPO_ROOT
readonly SERVER_PY="$SCRIPT_DIR/testbed_server.py"
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
readonly SELF
readonly DECAP_PY="$SCRIPT_DIR/ipip_decap.py"
readonly PYTHON=/usr/bin/python3   # a pyenv python may shadow python3 on PATH
readonly BIRD=/usr/sbin/bird BIRDC=/usr/sbin/birdc   # Debian's bird2
readonly MAX_SERVERS=50
readonly MAX_INSTANCES=4

# Addresses, all from 198.18.0.0/15. lb's own addresses (client side 198.18.0.1, VIPs
# 198.18.0.100-.199, server gateway 198.18.1.1) exist only in lb's user space.
readonly LB_CLIENT_IP=198.18.0.1
readonly LB_GATEWAY_IP=198.18.1.1
readonly VIP=198.18.0.100
readonly RT_CLIENT_IP=198.18.0.2
readonly RT_LEG_IP=198.18.2.1
readonly LEG_NET=198.18.2.0/24
# Modes dsr and ipip: rt's leg on the server LAN (the servers' default router), the VIP range
# the servers hold locally (198.18.0.96-.127: every VIP tests use, and not lb's .1, rt's .2 or
# the clients' .11/.12), and the TUN device of the user-space IP-in-IP decapsulator.
readonly RT_SERVER_IP=198.18.1.2
readonly SERVER_NET=198.18.1.0/24
readonly VIP_LOCAL_RANGE=198.18.0.96/27
readonly IPIP_TUN=ipip0
# Topology ecmp: the management LAN brm (BGP between rt and the lb instances).
readonly RT_MGMT_IP=198.18.3.1
readonly RT_MGMT_IF=eth3
readonly RT_AS=65000 LB_AS=65001
client_ip() { # topology role
  case $1:$2 in
    single:c1) echo 198.18.0.11 ;;
    single:c2) echo 198.18.0.12 ;;
    ecmp:c1) echo 198.18.2.21 ;;
    ecmp:c2) echo 198.18.2.22 ;;
    *:c3) echo 198.18.2.11 ;;
    *) die "no client $2 in topology $1" ;;
  esac
}
server_ip() { echo "198.18.1.$((10 + $1))"; }
lb_client_ip() { echo "198.18.0.$((10 + $1))"; }    # ecmp instance i
lb_gateway_ip() { echo "198.18.1.$((20 + $1))"; }
lb_mgmt_ip() { echo "198.18.3.$((10 + $1))"; }

# IPv6 (up --ipv6), all from 2001:2::/48: the client LAN 2001:2::/64, the server LAN
# 2001:2:0:1::/64, the router leg 2001:2:0:2::/64. lb's own (client side 2001:2::1, VIP6s
# 2001:2::100-1ff, server gateway 2001:2:0:1::1) exist only in lb's user space, as in IPv4.
readonly LB_CLIENT_IP6=2001:2::1
readonly LB_GATEWAY_IP6=2001:2:0:1::1
readonly VIP6=2001:2::100
readonly VIP6_RANGE=2001:2::100/120
readonly RT_CLIENT_IP6=2001:2::2
readonly RT_SERVER_IP6=2001:2:0:1::2
readonly RT_LEG_IP6=2001:2:0:2::1
readonly LEG_NET6=2001:2:0:2::/64
client_ip6() { # role
  case $1 in
    c1) echo 2001:2::11 ;;
    c2) echo 2001:2::12 ;;
    c3) echo 2001:2:0:2::11 ;;
    *) die "no client $1" ;;
  esac
}
# The last group reads as the last octet of the server's IPv4 address: s1 ::11, s12 ::22.
server_ip6() { echo "2001:2:0:1::$((10 + $1))"; }

usage() {
  cat <<EOF
Usage: docker/testbed.sh COMMAND [OPTIONS]   (needs root)

Commands:
  up [--prefix P] [--offloads on|off] [--servers N] [--mode nat|dsr|ipip]
     [--topology single|ecmp] [--instances N] [--ipv6] [--owner PID]
      Create the namespaces P-sw, P-lb, P-c1, P-c2, P-rt, P-c3, P-s1..P-sN (N: 1..$MAX_SERVERS,
      default 3; P default "lbt" + 6 random hex digits). --offloads off turns tso, gso, gro,
      tx and rx checksumming off on every veth (default on, the kernel default).
      --mode (default nat) sets up the servers for lb's forwarding mode, see "Modes" below.
      --topology ecmp (only with --mode dsr, the default there) puts --instances N (1..$MAX_INSTANCES,
      default 3) lb namespaces P-lb1..P-lbN behind a BGP router instead of P-lb, see "ECMP".
      --ipv6 (topology single only) makes the testbed dual-stack, see "IPv6"; without it IPv6
      is disabled in every namespace. --owner PID records the process the testbed belongs to
      (the test JVM), so that sweep can take it down should that process die without down.
      Prints shell-parsable lines: PREFIX=, STATE_FILE=, OFFLOADS=, SERVERS=, MODE=, IPV6=, TOPOLOGY=,
      NAMESPACES=, NS_<role>= for every role; with ecmp also INSTANCES=, LB_NAMESPACES=,
      LB<i>_CLIENT_IP=, LB<i>_GATEWAY_IP=, LB<i>_MGMT_IP=, CLIENT_<c>=, RT_BIRD_SOCKET=, RT_BIRD_PID=.
  down --prefix P
      Kill the PIDs recorded for P, delete the namespaces recorded for P. Idempotent.
  sweep
      Take down every testbed whose owner (up --owner PID) has exited: what a process killed
      before it could run down (SIGKILL, a machine restart) left behind. Testbeds without an
      owner, and those whose owner still runs, are left alone.
  exec --prefix P ROLE CMD [ARG...]
      Run CMD in namespace P-ROLE (ip netns exec).
  servers --prefix P [--files DIR]
      Start in each server namespace an HTTP server on port 80 (GET /whoami: the server's IP;
      GET /file/NAME: NAME from DIR, default $STATE_DIR/P.files) and a UDP echo server on
      port 5353 (reply: "<server ip> " + the datagram, sent from the address it was sent to).
      In an --ipv6 testbed both also listen on IPv6, where /whoami and the echo's prefix are the
      server's IPv6 address.
      In mode ipip also the IP-in-IP decapsulator docker/ipip_decap.py, for IPv4 in IPv4 and
      (in an --ipv6 testbed) IPv6 in IPv6 alike (counters in $STATE_DIR/P.sN.decap.stats).
  stop-servers --prefix P
      Stop what 'servers' started.
  demo [--offloads on|off] [--servers N] [--requests N] [--mode nat|dsr|ipip] [--ipv6]
      Install missing packages, build lb if needed, bring a fresh testbed up, start the
      servers and lb, send N (default 300) HTTP requests to http://$VIP/whoami from c1, c2
      and c3, print the requests per backend and lb's counters, tear everything down.
      --ipv6 (mode nat or ipip) brings up the dual-stack testbed and runs lb with --client-ip6
      $LB_CLIENT_IP6 --gateway-ip6 $LB_GATEWAY_IP6 --vip [$VIP6]:80/tcp and the servers' IPv6
      addresses as backends; the requests go to http://[$VIP6]/whoami.
      nat runs lb with --scheduler rr; dsr and ipip with --mode M --scheduler maglev
      --server-network $SERVER_NET. Exit code 0 only when no request failed. Logs stay in
      /tmp/lb-demo-<prefix>/. LB_MVN_ARGS adds arguments to the mvn build (e.g. LB_MVN_ARGS=-o).

Topology (single, the default):
  client LAN 198.18.0.0/24, bridge brc in P-sw: c1 .11, c2 .12, rt .2 (eth0), lb's cli0
  server LAN 198.18.1.0/24, bridge brs in P-sw: s1 .11, s2 .12, ..., lb's srv0
  router leg 198.18.2.0/24, a veth from rt (.1, eth1) to c3 (.11)
  lb's interfaces have no kernel addresses: lb answers for $LB_CLIENT_IP, the VIPs
  198.18.0.100-.199 and the servers' gateway $LB_GATEWAY_IP in user space.

Modes:
  nat   the servers' default route is lb's gateway $LB_GATEWAY_IP: replies go back through lb.
  dsr, ipip
        rt also sits on the server LAN ($RT_SERVER_IP/24, eth2) and routes between all LANs
        (rp_filter 0); the servers' default route is via rt. Each server holds the VIPs locally
        (route "local $VIP_LOCAL_RANGE dev lo": 198.18.0.96-.127), has arp_ignore=1 and
        arp_announce=2 (all, eth0) so it never answers or announces them, rp_filter 0 everywhere.
  ipip  also: the kernel has no ipip or ip6_tunnel module, so each server has a TUN device
        $IPIP_TUN (up, rp_filter 0) and 'servers' starts docker/ipip_decap.py there, which takes
        the protocol-4 packets (IPv4 in IPv4) and the next-header-41 packets (IPv6 in IPv6) from
        two raw sockets and writes the inner packets of both families to $IPIP_TUN.

IPv6 (up --ipv6; the IPv4 addresses above stay as they are):
  client LAN 2001:2::/64: c1 ::11, c2 ::12, rt ::2; lb answers $LB_CLIENT_IP6 and the VIP6s
             2001:2::100-1ff in user space; c1 and c2 route 2001:2::/48 via rt, the VIP6s on-link
  server LAN 2001:2:0:1::/64: s<i> 2001:2:0:1::<10+i> (s1 ::11), lb's gateway $LB_GATEWAY_IP6
  router leg 2001:2:0:2::/64: rt ::1 (eth1), c3 ::11, which routes 2001:2::/48 via rt
  Clients, rt and servers get IPv6 with accept_dad=0 (and addresses nodad: usable at once), no
  router solicitations, accept_ra=0, keep_addr_on_down=1 (a link taken down and up keeps its
  address, as in IPv4); rt forwards IPv6. lb's and the switch's namespaces keep IPv6 disabled
  (lb's packet sockets see IPv6 frames all the same). Servers: mode nat, default route via
  $LB_GATEWAY_IP6; dsr and ipip, the VIP6s $VIP6_RANGE local on lo (the kernel answers
  neighbour solicitations only for addresses on an interface, so none for them; IPv6 has no
  rp_filter, and ip_nonlocal_bind lets the echo answer from a VIP6) and default via rt's
  server-LAN leg $RT_SERVER_IP6; in ipip the decapsulator's $IPIP_TUN takes IPv6 in IPv6 too.

ECMP (--topology ecmp, mode dsr): P-sw, P-lb1..P-lbN, P-c1, P-c2, P-rt, P-c3, P-s1..P-sM.
  client LAN 198.18.0.0/24, brc: rt .2 (eth0); lb i's cli0 (lb i answers 198.18.0.(10+i))
  server LAN 198.18.1.0/24, brs: rt .2 (eth2), servers .11.., lb i's srv0 (gateway 198.18.1.(20+i))
  mgmt LAN   198.18.3.0/24, brm: rt .1 ($RT_MGMT_IF), lb i's mgmt0 198.18.3.(10+i) (a kernel address)
  clients    198.18.2.0/24, brl: rt .1 (eth1), c1 .21, c2 .22, c3 .11, default route via rt
  lb i's cli0 and srv0 are set up as P-lb's (no addresses, tc drop filter, tx offloads off).
  Every client is behind rt. rt has ip_forward=1, fib_multipath_hash_policy=1 (L4 hash) and
  runs BIRD (config, log and control socket $STATE_DIR/P.rt-bird.*): protocol bgp lb<i>,
  passive, local $RT_MGMT_IP as $RT_AS, neighbor 198.18.3.(10+i) as $LB_AS, BFD (100 ms x 3), hold
  3 s, keepalive 1 s, error wait 1-2 s, import all, export none, gateway direct (the next hop
  an instance announces, its client-ip on brc, is used as it is); the kernel protocol merges
  equal routes into one multipath route.
EOF
}

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)"
}

require_tool() { # tool debian-package
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package $2 (apt-get install $2)"
}

require_netns() {
  require_root
  require_tool ip iproute2
  ip netns list >/dev/null 2>&1 || die "'ip netns list' fails: this kernel or container does not allow network namespaces"
}

check_prefix() {
  [[ $1 =~ ^[A-Za-z0-9_]{1,24}$ ]] || die "bad prefix '$1' (1 to 24 letters, digits or _)"
}

int_in() { # value min max: true when value is a decimal integer in [min, max]
  [[ $1 =~ ^[0-9]{1,6}$ ]] || return 1
  [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

random_prefix() { echo "lbt$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"; }

state_file() { echo "$STATE_DIR/$1.state"; }

# The state file holds one record per line: "key value...". Keys: prefix, offloads, servers,
# owner PID STARTTIME, ns NAME ROLE, pid PID STARTTIME KIND ROLE, dir PATH, file PATH, ready.
state_add() { echo "$2" >>"$(state_file "$1")"; }
state_get() { awk -v k="$2" '$1 == k { print $2; exit }' "$(state_file "$1")"; }

require_state() {
  [ -f "$(state_file "$1")" ] || die "no testbed with prefix '$1' (no $(state_file "$1"))"
}

# awk reads all of its input: grep -q would exit early and fail the pipe (pipefail, SIGPIPE).
ns_exists() { ip netns list | awk -v n="$1" '$1 == n { found = 1 } END { exit !found }'; }

# Field 22 of /proc/PID/stat: the start time, which tells a recorded process from a later one
# that happens to get the same PID.
proc_start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  local -a f
  read -ra f <<<"${stat##*) }"
  echo "${f[19]}"
}

record_pid() { # prefix pid kind role
  local start
  start=$(proc_start_time "$2")
  [ -n "$start" ] || die "process $2 ($3 $4) exited right after it started"
  state_add "$1" "pid $2 $start $3 $4"
}

# Stop one recorded process: SIGTERM, wait up to 5 s, then SIGKILL. Only if it is still the
# process that was recorded.
kill_recorded() { # pid starttime label
  local pid=$1 start=$2 label=$3 i
  [ "$(proc_start_time "$pid")" = "$start" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    [ "$(proc_start_time "$pid")" = "$start" ] || return 0
    sleep 0.1
  done
  log "$label (pid $pid) ignored SIGTERM for 5 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    [ "$(proc_start_time "$pid")" = "$start" ] || return 0
    sleep 0.1
  done
  log "warning: $label (pid $pid) survived SIGKILL"
}

kill_recorded_kind() { # prefix kind|"" (all)
  local state tag pid start kind role
  state=$(state_file "$1")
  [ -f "$state" ] || return 0
  while read -r tag pid start kind role; do
    [ "$tag" = pid ] || continue
    [ -z "$2" ] || [ "$kind" = "$2" ] || continue
    kill_recorded "$pid" "$start" "$kind $role"
  done <"$state"
  if [ -n "$2" ]; then
    grep -v -E "^pid [0-9]+ [0-9]+ $2 " "$state" >"$state.tmp" || true
    mv "$state.tmp" "$state"
  fi
}

# Deletes what the state file of prefix $1 lists, then the state file. Idempotent.
teardown() {
  local p=$1 state tag a b pids
  state=$(state_file "$p")
  [ -f "$state" ] || return 0
  kill_recorded_kind "$p" ""
  # Namespaces in reverse order of creation; only those recorded, by name.
  tac "$state" | while read -r tag a b; do
    case $tag in
      ns)
        if ns_exists "$a"; then
          pids=$(ip netns pids "$a" 2>/dev/null | tr '\n' ' ')
          [ -z "$pids" ] || log "warning: processes not started by this script still run in $a: $pids"
          ip netns del "$a" || log "warning: could not delete namespace $a"
        fi
        ;;
      dir) case $a in "$STATE_DIR/$p".*) rm -rf -- "$a" ;; esac ;;
      file) case $a in "$STATE_DIR/$p".*) rm -f -- "$a" ;; esac ;;
    esac
  done
  rm -f -- "$state"
}

# ---------------------------------------------------------------------------------------- up

UP_PREFIX=""
UP_DONE=0
up_on_exit() {
  local rc=$?
  if [ "$UP_DONE" -ne 1 ] && [ -n "$UP_PREFIX" ]; then
    log "up failed (exit $rc): deleting what it created"
    teardown "$UP_PREFIX"
  fi
  exit "$rc"
}

VETHS=()   # "namespace device" of every veth end created, for the offloads
veth() { # ns-a dev-a ns-b dev-b
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  VETHS+=("$1 $2" "$3 $4")
}

PORTS=()   # the switch's ends of the veths, brought up once everything is configured
port() { # ns dev switch-ns switch-port bridge: a veth from ns to a port of a bridge in the switch
  veth "$1" "$2" "$3" "$4"
  ip -n "$3" link set "$4" master "$5"
  PORTS+=("$4")
}

# lb's namespace (or an ecmp instance's): interfaces up, no addresses, no forwarding: the kernel
# neither answers ARP nor sends ICMP or RSTs for lb's addresses; lb does all of it in user space.
setup_lb_ns() { # namespace
  local ns=$1 dev
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=0
  ip -n "$ns" link set cli0 up
  ip -n "$ns" link set srv0 up
  # lb's own interfaces send wire-size frames with complete checksums, as an appliance's NICs
  # would: the kernel segments the GSO frames lb forwards and finishes their checksums. The
  # peers keep their offloads (unless --offloads off), so lb still receives GSO super-frames.
  ip netns exec "$ns" ethtool -K cli0 tso off gso off tx off >/dev/null
  ip netns exec "$ns" ethtool -K srv0 tso off gso off tx off >/dev/null
  # lb's packet sockets get every frame before tc ingress runs; after that nothing in the lb
  # namespace's kernel wants them, so drop them there instead of letting the IP stack parse and
  # discard each one (a classic-BPF direct-action program returning TC_ACT_SHOT: no action
  # modules needed). To use the lb namespace as a plain kernel router instead (the benchmark's
  # kernel peers), remove it: tc qdisc del dev cli0 clsact (and srv0).
  for dev in cli0 srv0; do
    ip netns exec "$ns" tc qdisc add dev "$dev" clsact
    ip netns exec "$ns" tc filter add dev "$dev" ingress bpf da bytecode "1,6 0 0 2,"
  done
}

# A server in mode dsr or ipip: it holds the VIPs itself (a local route, no address on any
# interface), never answers ARP for them, accepts what lb sends whatever the reverse path, and
# replies directly through the router instead of lb.
setup_direct_server() { # namespace mode
  local ns=$1 mode=$2 dev
  ip -n "$ns" route add local "$VIP_LOCAL_RANGE" dev lo
  ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1 \
    net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2
  if [ "$mode" = ipip ]; then
    # The user-space decapsulator (ipip_decap.py, started by `servers`) writes the inner packets
    # to this TUN device; the kernel has no ipip module.
    ip -n "$ns" tuntap add dev "$IPIP_TUN" mode tun
  fi
  ip netns exec "$ns" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  for dev in $(ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip netns exec "$ns" sysctl -q -w "net.ipv4.conf.$dev.rp_filter=0"
  done
  if [ "$mode" = ipip ]; then
    # The inner packet's source is the client, its destination a local VIP: no accept_local needed.
    ip -n "$ns" link set "$IPIP_TUN" up
  fi
  ip -n "$ns" route replace default via "$RT_SERVER_IP" dev eth0
}

# A host of the dual-stack testbed (client, router, server): IPv6 on, quiet and immediate. No
# duplicate address detection (an address is usable at once: nothing for a test to wait out), no
# router solicitations and no autoconfiguration (every route is static), and addresses kept when a
# link goes down (tests take a backend's link down and up, as in IPv4). Set on "default" before
# the veths exist, so every interface created here inherits it.
enable_quiet_ipv6() { # namespace
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
    net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
}

# The IPv6 addresses and routes of up --ipv6 (see usage(), "IPv6"), on the links up configured.
setup_ipv6_addresses() { # prefix servers mode
  local prefix=$1 servers=$2 mode=$3 rt="$1-rt" c i ns
  ip -n "$rt" -6 addr add "$RT_CLIENT_IP6/64" dev eth0 nodad
  ip -n "$rt" -6 addr add "$RT_LEG_IP6/64" dev eth1 nodad
  [ "$mode" = nat ] || ip -n "$rt" -6 addr add "$RT_SERVER_IP6/64" dev eth2 nodad
  ip netns exec "$rt" sysctl -q -w net.ipv6.conf.all.forwarding=1
  for c in c1 c2 c3; do
    ip -n "$prefix-$c" -6 addr add "$(client_ip6 "$c")/64" dev eth0 nodad
  done
  # The test range only, not a default route: the VIP6s are on c1's and c2's own /64 (on-link).
  ip -n "$prefix-c1" -6 route add 2001:2::/48 via "$RT_CLIENT_IP6"
  ip -n "$prefix-c2" -6 route add 2001:2::/48 via "$RT_CLIENT_IP6"
  ip -n "$prefix-c3" -6 route add 2001:2::/48 via "$RT_LEG_IP6"
  for ((i = 1; i <= servers; i++)); do
    ns="$prefix-s$i"
    ip -n "$ns" -6 addr add "$(server_ip6 "$i")/64" dev eth0 nodad
    if [ "$mode" = nat ]; then
      ip -n "$ns" -6 route add default via "$LB_GATEWAY_IP6" dev eth0
    else
      ip -n "$ns" -6 route add local "$VIP6_RANGE" dev lo
      # IPv6 lets a socket send from an address only if an interface holds it, unless this is
      # set: the echo server answers from the VIP6 it was asked on (IPv4 has no such check).
      ip netns exec "$ns" sysctl -q -w net.ipv6.ip_nonlocal_bind=1
      ip -n "$ns" -6 route add default via "$RT_SERVER_IP6" dev eth0
    fi
  done
}

# BIRD in rt (topology ecmp): one passive eBGP session per lb instance on brm, BFD, and ECMP
# routes for what the instances announce, with their next hops on brc.
write_bird_conf() { # prefix instances conf log
  local prefix=$1 instances=$2 conf=$3 birdlog=$4 i
  {
    echo "# BIRD 2 configuration of $prefix-rt, written by testbed.sh up --topology ecmp"
    echo "log \"$birdlog\" all;"
    echo "router id $RT_MGMT_IP;"
    echo "protocol device { scan time 10; }"
    echo "protocol kernel {"
    echo "  ipv4 { export all; };"
    echo "  merge paths on;   # several instances announcing a VIP: one multipath route"
    echo "}"
    echo "protocol bfd {"
    echo "  interface \"$RT_MGMT_IF\" { interval 100 ms; multiplier 3; };"
    echo "}"
    echo "template bgp lbpeer {"
    echo "  local $RT_MGMT_IP as $RT_AS;"
    echo "  passive on;"
    echo "  bfd on;"
    echo "  hold time 3;"
    echo "  keepalive time 1;"
    echo "  error wait time 1, 2;"
    echo "  connect retry time 1;"
    echo "  # gateway direct: a next hop on any connected subnet (the instances' client-ips on brc,"
    echo "  # not their session address on brm) is taken as it is."
    echo "  ipv4 { import all; export none; gateway direct; };"
    echo "}"
    for ((i = 1; i <= instances; i++)); do
      echo "protocol bgp lb$i from lbpeer { neighbor $(lb_mgmt_ip "$i") as $LB_AS; }"
    done
  } >"$conf"
}

start_rt_bird() { # prefix instances
  local prefix=$1 instances=$2 rt="$1-rt" conf birdlog sock pidfile w pid
  conf="$STATE_DIR/$prefix.rt-bird.conf"
  birdlog="$STATE_DIR/$prefix.rt-bird.log"
  sock="$STATE_DIR/$prefix.rt-bird.ctl"
  pidfile="$STATE_DIR/$prefix.rt-bird.pid"
  local f
  for f in "$conf" "$birdlog" "$sock" "$pidfile" "$STATE_DIR/$prefix.rt-bird.out"; do state_add "$prefix" "file $f"; done
  write_bird_conf "$prefix" "$instances" "$conf" "$birdlog"
  "$BIRD" -p -c "$conf" || die "BIRD rejects $conf"
  setsid ip netns exec "$rt" "$BIRD" -f -c "$conf" -s "$sock" -P "$pidfile" </dev/null \
    >"$STATE_DIR/$prefix.rt-bird.out" 2>&1 &
  local bgpid=$!
  for ((w = 0; w < 100; w++)); do
    if [ -s "$pidfile" ] && [ -S "$sock" ]; then break; fi
    kill -0 "$bgpid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$pidfile" ]; then
    kill -TERM "$bgpid" 2>/dev/null || true
    die "BIRD did not start in $rt: $(tail -n 5 "$STATE_DIR/$prefix.rt-bird.out" 2>/dev/null)"
  fi
  pid=$(<"$pidfile")
  record_pid "$prefix" "$pid" bird rt
  for ((w = 0; w < 100; w++)); do
    "$BIRDC" -s "$sock" show status >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$BIRDC" -s "$sock" show status >/dev/null 2>&1 || die "BIRD in $rt does not answer on $sock"
  RT_BIRD_PID=$pid
  RT_BIRD_SOCKET=$sock
}

do_up() {
  local prefix="" offloads=on servers=3 mode="" topology=single instances="" ipv6=off owner="" owner_start=""
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
      --ipv6) ipv6=on; shift ;;
      --offloads) offloads=${2:?--offloads needs on or off}; shift 2 ;;
      --servers) servers=${2:?--servers needs a number}; shift 2 ;;
      --mode) mode=${2:?--mode needs nat, dsr or ipip}; shift 2 ;;
      --topology) topology=${2:?--topology needs single or ecmp}; shift 2 ;;
      --instances) instances=${2:?--instances needs a number}; shift 2 ;;
      --owner) owner=${2:?--owner needs a PID}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "up: unknown argument '$1' (see --help)" ;;
    esac
  done
  require_netns
  [ -n "$prefix" ] || prefix=$(random_prefix)
  check_prefix "$prefix"
  [[ $offloads == on || $offloads == off ]] || die "--offloads must be on or off, not '$offloads'"
  if [ -n "$owner" ]; then
    [[ $owner =~ ^[0-9]+$ ]] || die "--owner must be a PID, not '$owner'"
    owner_start=$(proc_start_time "$owner")
    [ -n "$owner_start" ] || die "--owner $owner: no such process"
  fi
  int_in "$servers" 1 "$MAX_SERVERS" || die "--servers must be 1..$MAX_SERVERS, not '$servers'"
  case $topology in
    single)
      [ -z "$instances" ] || die "--instances needs --topology ecmp"
      [ -n "$mode" ] || mode=nat
      instances=1
      ;;
    ecmp)
      [ -n "$mode" ] || mode=dsr
      [ "$mode" = dsr ] || die "--topology ecmp works only with --mode dsr, not '$mode'"
      [ -n "$instances" ] || instances=3
      int_in "$instances" 1 "$MAX_INSTANCES" || die "--instances must be 1..$MAX_INSTANCES, not '$instances'"
      require_tool "$BIRD" bird2
      require_tool "$BIRDC" bird2
      ;;
    *) die "--topology must be single or ecmp, not '$topology'" ;;
  esac
  [ "$ipv6" = off ] || [ "$topology" = single ] || die "--ipv6 works only with --topology single"
  [[ $mode == nat || $mode == dsr || $mode == ipip ]] || die "--mode must be nat, dsr or ipip, not '$mode'"
  require_tool ethtool ethtool
  require_tool sysctl procps

  local sw="$prefix-sw" rt="$prefix-rt" i role lbs=()
  if [ "$topology" = ecmp ]; then
    for ((i = 1; i <= instances; i++)); do lbs+=("lb$i"); done
  else
    lbs=(lb)
  fi
  local roles=(sw "${lbs[@]}" c1 c2 rt c3)
  for ((i = 1; i <= servers; i++)); do roles+=("s$i"); done
  for role in "${roles[@]}"; do
    ! ns_exists "$prefix-$role" || die "namespace $prefix-$role already exists and is not ours: choose another prefix"
  done

  mkdir -p "$STATE_DIR"
  local state
  state=$(state_file "$prefix")
  (set -C; : >"$state") 2>/dev/null || die "prefix $prefix is in use ($state exists)"
  UP_PREFIX=$prefix
  trap up_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  state_add "$prefix" "prefix $prefix"
  [ -z "$owner" ] || state_add "$prefix" "owner $owner $owner_start"
  state_add "$prefix" "offloads $offloads"
  state_add "$prefix" "servers $servers"
  state_add "$prefix" "mode $mode"
  state_add "$prefix" "topology $topology"
  state_add "$prefix" "instances $instances"
  state_add "$prefix" "ipv6 $ipv6"

  for role in "${roles[@]}"; do
    ip netns add "$prefix-$role"
    state_add "$prefix" "ns $prefix-$role $role"
    ip -n "$prefix-$role" link set lo up
    if [ "$ipv6" = on ] && [[ $role == c[0-9] || $role == rt || $role == s[0-9]* ]]; then
      enable_quiet_ipv6 "$prefix-$role"
    else
      # No IPv6: keeps the LANs free of router solicitations, MLD and DAD.
      ip netns exec "$prefix-$role" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
  done

  # The switch: bridges with STP off (ports forward at once). Bridged frames must not pass
  # through iptables when br_netfilter is loaded.
  if ip netns exec "$sw" test -d /proc/sys/net/bridge; then
    ip netns exec "$sw" sysctl -q -w net.bridge.bridge-nf-call-iptables=0 \
      net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
  fi
  local bridges=(brc brs)
  [ "$topology" = single ] || bridges+=(brl brm)
  for role in "${bridges[@]}"; do ip -n "$sw" link add "$role" type bridge stp_state 0 mcast_snooping 0; done

  local c
  if [ "$topology" = single ]; then
    port "$prefix-c1" eth0 "$sw" c1 brc
    port "$prefix-c2" eth0 "$sw" c2 brc
    port "$rt" eth0 "$sw" rt brc
    port "$prefix-lb" cli0 "$sw" lbc brc
    port "$prefix-lb" srv0 "$sw" lbs brs
    veth "$rt" eth1 "$prefix-c3" eth0
    [ "$mode" = nat ] || port "$rt" eth2 "$sw" rts brs
  else
    port "$rt" eth0 "$sw" rt brc
    port "$rt" eth1 "$sw" rtl brl
    port "$rt" eth2 "$sw" rts brs
    port "$rt" "$RT_MGMT_IF" "$sw" rtm brm
    for c in c1 c2 c3; do port "$prefix-$c" eth0 "$sw" "$c" brl; done
    for ((i = 1; i <= instances; i++)); do
      port "$prefix-lb$i" cli0 "$sw" "lb${i}c" brc
      port "$prefix-lb$i" srv0 "$sw" "lb${i}s" brs
      port "$prefix-lb$i" mgmt0 "$sw" "lb${i}m" brm
    done
  fi
  for ((i = 1; i <= servers; i++)); do port "$prefix-s$i" eth0 "$sw" "s$i" brs; done

  if [ "$offloads" = off ]; then
    local end end_ns end_dev
    for end in "${VETHS[@]}"; do
      read -r end_ns end_dev <<<"$end"
      ip netns exec "$end_ns" ethtool -K "$end_dev" tso off gso off gro off tx off rx off >/dev/null
    done
  fi

  for role in "${lbs[@]}"; do setup_lb_ns "$prefix-$role"; done
  if [ "$topology" = ecmp ]; then
    for ((i = 1; i <= instances; i++)); do
      ip -n "$prefix-lb$i" addr add "$(lb_mgmt_ip "$i")/24" dev mgmt0
      ip -n "$prefix-lb$i" link set mgmt0 up
    done
  fi

  ip -n "$rt" addr add "$RT_CLIENT_IP/24" dev eth0
  ip -n "$rt" addr add "$RT_LEG_IP/24" dev eth1
  ip -n "$rt" link set eth0 up
  ip -n "$rt" link set eth1 up
  if [ "$mode" != nat ]; then
    ip -n "$rt" addr add "$RT_SERVER_IP/24" dev eth2
    ip -n "$rt" link set eth2 up
    # The servers' replies come from the VIPs, which rt reaches on brc, not on brs: no reverse
    # path filter.
    ip netns exec "$rt" sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    for role in eth0 eth1 eth2; do ip netns exec "$rt" sysctl -q -w "net.ipv4.conf.$role.rp_filter=0"; done
  fi
  if [ "$topology" = ecmp ]; then
    ip -n "$rt" addr add "$RT_MGMT_IP/24" dev "$RT_MGMT_IF"
    ip -n "$rt" link set "$RT_MGMT_IF" up
    ip netns exec "$rt" sysctl -q -w "net.ipv4.conf.$RT_MGMT_IF.rp_filter=0" net.ipv4.fib_multipath_hash_policy=1
  fi
  ip netns exec "$rt" sysctl -q -w net.ipv4.ip_forward=1

  for c in c1 c2 c3; do
    ip -n "$prefix-$c" addr add "$(client_ip "$topology" "$c")/24" dev eth0
    ip -n "$prefix-$c" link set eth0 up
    if [ "$topology" = ecmp ] || [ "$c" = c3 ]; then
      ip -n "$prefix-$c" route add default via "$RT_LEG_IP"
    else
      # Only so that c3 (behind the router) gets replies from c1 and c2; VIP traffic is on-link.
      ip -n "$prefix-$c" route add "$LEG_NET" via "$RT_CLIENT_IP"
    fi
  done

  for ((i = 1; i <= servers; i++)); do
    ip -n "$prefix-s$i" addr add "$(server_ip "$i")/24" dev eth0
    ip -n "$prefix-s$i" link set eth0 up
    if [ "$mode" = nat ]; then
      ip -n "$prefix-s$i" route add default via "$LB_GATEWAY_IP"
    else
      setup_direct_server "$prefix-s$i" "$mode"
    fi
  done

  [ "$ipv6" = off ] || setup_ipv6_addresses "$prefix" "$servers" "$mode"

  for role in "${bridges[@]}" "${PORTS[@]}"; do ip -n "$sw" link set "$role" up; done

  for role in "${lbs[@]}"; do
    [ -z "$(ip -n "$prefix-$role" -4 -o addr show dev cli0)$(ip -n "$prefix-$role" -4 -o addr show dev srv0)" ] \
      || die "$role's interfaces cli0/srv0 have IPv4 addresses"
  done

  RT_BIRD_PID=""
  RT_BIRD_SOCKET=""
  [ "$topology" = single ] || start_rt_bird "$prefix" "$instances"

  state_add "$prefix" ready
  UP_DONE=1
  trap - EXIT INT TERM

  local names=() lbnames=()
  for role in "${roles[@]}"; do names+=("$prefix-$role"); done
  for role in "${lbs[@]}"; do lbnames+=("$prefix-$role"); done
  echo "PREFIX=$prefix"
  echo "STATE_FILE=$state"
  echo "OFFLOADS=$offloads"
  echo "SERVERS=$servers"
  echo "MODE=$mode"
  echo "IPV6=$ipv6"
  echo "TOPOLOGY=$topology"
  echo "NAMESPACES=\"${names[*]}\""
  for role in "${roles[@]}"; do echo "NS_$role=$prefix-$role"; done
  if [ "$topology" = ecmp ]; then
    echo "INSTANCES=$instances"
    echo "LB_NAMESPACES=\"${lbnames[*]}\""
    for ((i = 1; i <= instances; i++)); do
      echo "LB${i}_CLIENT_IP=$(lb_client_ip "$i")"
      echo "LB${i}_GATEWAY_IP=$(lb_gateway_ip "$i")"
      echo "LB${i}_MGMT_IP=$(lb_mgmt_ip "$i")"
    done
    for c in c1 c2 c3; do echo "CLIENT_$c=$(client_ip ecmp "$c")"; done
    echo "RT_BIRD_SOCKET=$RT_BIRD_SOCKET"
    echo "RT_BIRD_PID=$RT_BIRD_PID"
  fi
}

# -------------------------------------------------------------------------- down, exec, servers

parse_prefix_only() { # command args... -> sets PREFIX
  local cmd=$1
  shift
  PREFIX=""
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "$cmd: unknown argument '$1' (see --help)" ;;
    esac
  done
  [ -n "$PREFIX" ] || die "$cmd: --prefix P is required"
  check_prefix "$PREFIX"
}

do_down() {
  parse_prefix_only down "$@"
  require_netns
  if [ ! -f "$(state_file "$PREFIX")" ]; then
    log "down: no testbed '$PREFIX' recorded: nothing to do"
    return 0
  fi
  teardown "$PREFIX"
  log "down: $PREFIX deleted"
}

do_sweep() {
  [ $# -eq 0 ] || die "sweep takes no arguments"
  require_netns
  local state prefix owner start
  for state in "$STATE_DIR"/*.state; do
    [ -f "$state" ] || continue
    prefix=$(basename "$state" .state)
    read -r owner start < <(awk '$1 == "owner" { print $2, $3; exit }' "$state") || true
    [ -n "$owner" ] || continue
    if [ "$(proc_start_time "$owner")" != "$start" ]; then
      log "sweep: testbed $prefix outlived its owner (pid $owner): deleting it"
      teardown "$prefix"
    fi
    owner=""
  done
}

do_exec() {
  local prefix="" role
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) break ;;
    esac
  done
  [ -n "$prefix" ] || die "exec: --prefix P is required"
  [ $# -ge 2 ] || die "exec: usage: exec --prefix P ROLE CMD [ARG...]"
  check_prefix "$prefix"
  role=$1
  shift
  require_netns
  require_state "$prefix"
  awk -v n="$prefix-$role" '$1 == "ns" && $2 == n { found = 1 } END { exit !found }' "$(state_file "$prefix")" \
    || die "exec: testbed '$prefix' has no role '$role'"
  exec ip netns exec "$prefix-$role" "$@"
}

do_servers() {
  local prefix="" files=""
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
      --files) files=${2:?--files needs a directory}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "servers: unknown argument '$1' (see --help)" ;;
    esac
  done
  [ -n "$prefix" ] || die "servers: --prefix P is required"
  check_prefix "$prefix"
  require_netns
  require_state "$prefix"
  [ -x "$PYTHON" ] || die "$PYTHON not found: install the Debian package python3"
  if grep -q -E '^pid [0-9]+ [0-9]+ (server|decap) ' "$(state_file "$prefix")"; then
    die "servers: already started for '$prefix' (stop-servers first)"
  fi
  if [ -z "$files" ]; then
    files="$STATE_DIR/$prefix.files"
    mkdir -p "$files"
    state_add "$prefix" "dir $files"
  fi
  [ -d "$files" ] || die "servers: '$files' is not a directory"
  files=$(cd "$files" && pwd)

  local servers mode ipv6 i ns ip pidfile logfile started=() ip6_args
  servers=$(state_get "$prefix" servers)
  mode=$(state_get "$prefix" mode)
  ipv6=$(state_get "$prefix" ipv6)
  for ((i = 1; i <= servers; i++)); do
    ns="$prefix-s$i"
    ip=$(server_ip "$i")
    ip6_args=()
    [ "$ipv6" != on ] || ip6_args=(--ip6 "$(server_ip6 "$i")")
    pidfile="$STATE_DIR/$prefix.s$i.pid"
    logfile="$STATE_DIR/$prefix.s$i.log"
    rm -f "$pidfile"
    state_add "$prefix" "file $pidfile"
    state_add "$prefix" "file $logfile"
    setsid ip netns exec "$ns" "$PYTHON" "$SERVER_PY" --ip "$ip" "${ip6_args[@]}" --files "$files" \
      --pidfile "$pidfile" </dev/null >"$logfile" 2>&1 &
    started+=("$! server s$i $pidfile $logfile")
    if [ "$mode" = ipip ]; then
      pidfile="$STATE_DIR/$prefix.s$i.decap.pid"
      logfile="$STATE_DIR/$prefix.s$i.decap.log"
      rm -f "$pidfile"
      state_add "$prefix" "file $pidfile"
      state_add "$prefix" "file $logfile"
      state_add "$prefix" "file $STATE_DIR/$prefix.s$i.decap.stats"
      state_add "$prefix" "file $STATE_DIR/$prefix.s$i.decap.stats.tmp"
      setsid ip netns exec "$ns" "$PYTHON" "$DECAP_PY" --tun "$IPIP_TUN" --pidfile "$pidfile" \
        --stats "$STATE_DIR/$prefix.s$i.decap.stats" </dev/null >"$logfile" 2>&1 &
      started+=("$! decap s$i $pidfile $logfile")
    fi
  done
  local entry bgpid kind role pid w
  for entry in "${started[@]}"; do
    read -r bgpid kind role pidfile logfile <<<"$entry"
    # The process writes its pidfile once its sockets are bound: wait for it, at most 10 s.
    for ((w = 0; w < 100; w++)); do
      [ ! -s "$pidfile" ] || break
      kill -0 "$bgpid" 2>/dev/null || break
      sleep 0.1
    done
    if [ ! -s "$pidfile" ]; then
      kill -TERM "$bgpid" 2>/dev/null || true
      die "servers: the $kind in $prefix-$role did not start; its log $logfile says: $(tail -n 5 "$logfile" 2>/dev/null)"
    fi
    pid=$(<"$pidfile")
    record_pid "$prefix" "$pid" "$kind" "$role"
    if [ "$kind" = server ]; then
      echo "SERVER_$role=$(server_ip "${role#s}") pid $pid"
      [ "$ipv6" != on ] || echo "SERVER6_$role=$(server_ip6 "${role#s}")"
    else
      echo "DECAP_$role=pid $pid stats $STATE_DIR/$prefix.$role.decap.stats"
    fi
  done
  echo "FILES_DIR=$files"
}

do_stop_servers() {
  parse_prefix_only stop-servers "$@"
  require_netns
  require_state "$PREFIX"
  kill_recorded_kind "$PREFIX" server
  kill_recorded_kind "$PREFIX" decap
  log "stop-servers: servers of $PREFIX stopped"
}

# -------------------------------------------------------------------------------------- demo

DEMO_PREFIX=""
DEMO_LB_PID=""
DEMO_LB_START=""

demo_on_exit() {
  local rc=$?
  trap - EXIT
  if [ -n "$DEMO_LB_PID" ]; then
    demo_stop_lb >/dev/null || true
  fi
  if [ -n "$DEMO_PREFIX" ]; then
    teardown "$DEMO_PREFIX" || true
    log "demo: testbed $DEMO_PREFIX torn down"
  fi
  exit "$rc"
}

# SIGTERM to lb by PID; up to 10 s for it to print its counters and exit; then SIGKILL to
# lb and the process group it leads (started with setsid, so only processes started here).
demo_stop_lb() {
  local pid=$DEMO_LB_PID i
  [ -n "$pid" ] || return 0
  if [ "$(proc_start_time "$pid")" = "$DEMO_LB_START" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [ "$(proc_start_time "$pid")" = "$DEMO_LB_START" ] || break
      sleep 0.1
    done
    if [ "$(proc_start_time "$pid")" = "$DEMO_LB_START" ]; then
      log "demo: lb (pid $pid) did not exit 10 s after SIGTERM: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  { wait "$pid"; } 2>/dev/null || true   # braces: also silences bash's "Terminated" notice
  DEMO_LB_PID=""
  kill_recorded_kind "$DEMO_PREFIX" lb
}

demo_build() {
  local jar="$REPO_ROOT/lb-control/target/lb.jar" newer=""
  if [ -f "$jar" ]; then
    newer=$(find "$REPO_ROOT" -path "$REPO_ROOT/.git" -prune -o -path '*/target' -prune -o \
      \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -type f \
      -newer "$jar" -print -quit)
    [ -n "$newer" ] || return 0
    log "demo: $newer is newer than $jar: building"
  else
    log "demo: $jar is missing: building"
  fi
  require_tool mvn maven
  local extra=()
  read -ra extra <<<"${LB_MVN_ARGS:-}"
  (cd "$REPO_ROOT" && mvn -B -q -DskipTests "${extra[@]}" package) >&2 || die "demo: the build failed"
  [ -f "$jar" ] || die "demo: the build did not produce $jar"
}

do_demo() {
  local offloads=on servers=3 requests=300 mode=nat ipv6=off
  while [ $# -gt 0 ]; do
    case $1 in
      --offloads) offloads=${2:?--offloads needs on or off}; shift 2 ;;
      --ipv6) ipv6=on; shift ;;
      --mode) mode=${2:?--mode needs nat, dsr or ipip}; shift 2 ;;
      --servers) servers=${2:?--servers needs a number}; shift 2 ;;
      --requests) requests=${2:?--requests needs a number}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "demo: unknown argument '$1' (see --help)" ;;
    esac
  done
  int_in "$requests" 3 10000 || die "--requests must be 3..10000, not '$requests'"
  [[ $mode == nat || $mode == dsr || $mode == ipip ]] || die "--mode must be nat, dsr or ipip, not '$mode'"
  # lb's IPv6 dsr needs its server-network6 setting, which the demo does not give; ipip needs none.
  [ "$ipv6" = off ] || [ "$mode" != dsr ] || die "demo: --ipv6 works only with --mode nat or ipip, not '$mode'"
  require_root
  bash "$SCRIPT_DIR/deps.sh"
  require_netns
  require_tool curl curl
  demo_build

  local prefix up_out up_ipv6=()
  [ "$ipv6" = off ] || up_ipv6=(--ipv6)
  prefix=$(random_prefix)
  trap demo_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # On failure, up deletes what it created itself; the demo owns the testbed once up succeeded.
  up_out=$(bash "$SELF" up --prefix "$prefix" --offloads "$offloads" --servers "$servers" --mode "$mode" \
    "${up_ipv6[@]}")
  DEMO_PREFIX=$prefix
  echo "$up_out" >&2
  bash "$SELF" servers --prefix "$prefix" >&2

  local logs="/tmp/lb-demo-$prefix" i backends=()
  mkdir -p "$logs"
  for ((i = 1; i <= servers; i++)); do
    if [ "$ipv6" = on ]; then backends+=("$(server_ip6 "$i")"); else backends+=("$(server_ip "$i")"); fi
  done
  local backend_list
  backend_list=$(IFS=,; echo "${backends[*]}")
  local lb_cmd
  if [ -x "$REPO_ROOT/bin/lb" ]; then
    lb_cmd=("$REPO_ROOT/bin/lb")
  else
    require_tool java openjdk-17-jre-headless
    lb_cmd=(java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
      -Djnr.ffi.x86asm.enabled=false -jar "$REPO_ROOT/lb-control/target/lb.jar")
  fi
  local control_socket="$STATE_DIR/$prefix.sock"
  local vip_port="$VIP:80/tcp" url="http://$VIP/whoami"
  lb_cmd+=(--client-if cli0 --server-if srv0 --client-ip "$LB_CLIENT_IP" --gateway-ip "$LB_GATEWAY_IP")
  if [ "$ipv6" = on ]; then
    vip_port="[$VIP6]:80/tcp"
    url="http://[$VIP6]/whoami"
    lb_cmd+=(--client-ip6 "$LB_CLIENT_IP6" --gateway-ip6 "$LB_GATEWAY_IP6")
  fi
  lb_cmd+=(--vip "$vip_port" --backends "$backend_list" --control-socket "$control_socket")
  if [ "$mode" = nat ]; then
    lb_cmd+=(--scheduler rr)
  else
    # The backends answer the clients directly; Maglev, so that any lb would pick the same backend.
    lb_cmd+=(--mode "$mode" --scheduler maglev --server-network "$SERVER_NET")
  fi
  log "demo: starting lb in $prefix-lb: ${lb_cmd[*]}"
  # setsid: lb leads its own process group, so a Ctrl-C here reaches only this script, which
  # then stops lb by PID.
  setsid ip netns exec "$prefix-lb" "${lb_cmd[@]}" </dev/null >"$logs/lb.out" 2>"$logs/lb.err" &
  DEMO_LB_PID=$!
  DEMO_LB_START=$(proc_start_time "$DEMO_LB_PID")
  [ -z "$DEMO_LB_START" ] || state_add "$prefix" "pid $DEMO_LB_PID $DEMO_LB_START lb lb"

  local deadline=$((SECONDS + 20)) answered=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$(proc_start_time "$DEMO_LB_PID")" != "$DEMO_LB_START" ]; then
      local status=0
      wait "$DEMO_LB_PID" || status=$?
      DEMO_LB_PID=""
      log "demo: lb exited (status $status) before the VIP answered. Its stdout:"
      sed 's/^/  /' "$logs/lb.out" >&2
      log "demo: its stderr (last 20 lines):"
      tail -n 20 "$logs/lb.err" | sed 's/^/  /' >&2
      break
    fi
    if ip netns exec "$prefix-c1" curl -g -s -o /dev/null --max-time 1 "$url"; then
      answered=1
      break
    fi
    sleep 0.2
  done
  if [ "$answered" -ne 1 ]; then
    [ -z "$DEMO_LB_PID" ] || log "demo: the VIP of $url did not answer within 20 s"
    demo_stop_lb >/dev/null
    echo "demo: $requests requests, $requests failed"
    exit 1
  fi

  # Requests from c1, c2, c3 in parallel, each a new connection (Connection: close) so lb
  # schedules each one; 2 s at most per request.
  local clients=(c1 c2 c3) c n j pids=() urls
  for i in 0 1 2; do
    c=${clients[$i]}
    n=$(((requests + 2 - i) / 3))
    urls=()
    for ((j = 0; j < n; j++)); do urls+=("$url"); done
    ip netns exec "$prefix-$c" timeout $((n * 2 + 10)) curl -g -s --max-time 2 -H 'Connection: close' \
      -w ' %{http_code}\n' "${urls[@]}" >"$logs/curl.$c" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done

  local ok=0 b count
  for b in "${backends[@]}"; do
    count=$(cat "$logs"/curl.c1 "$logs"/curl.c2 "$logs"/curl.c3 | awk -v b="$b" '$1 == b && $2 == 200' | wc -l)
    echo "backend $b $count"
    ok=$((ok + count))
  done

  if [ -x "$REPO_ROOT/bin/lbctl" ]; then
    echo "lbctl show stat (from the running appliance):"
    "$REPO_ROOT/bin/lbctl" --socket "$control_socket" show stat || log "demo: lbctl show stat failed"
  fi
  demo_stop_lb >/dev/null
  echo "lb counters:"
  cat "$logs/lb.out"
  if [ "$mode" = ipip ]; then
    kill_recorded_kind "$prefix" decap   # they write their final counters on SIGTERM
    for ((i = 1; i <= servers; i++)); do
      echo "decap s$i: $(tr '\n' ' ' <"$STATE_DIR/$prefix.s$i.decap.stats" 2>/dev/null)"
    done
  fi
  log "demo: logs in $logs"
  local failed=$((requests - ok))
  echo "demo: $requests requests, $failed failed"
  [ "$failed" -eq 0 ]
}

# -------------------------------------------------------------------------------------- main

main() {
  [ $# -ge 1 ] || { usage >&2; exit 2; }
  local cmd=$1
  shift
  case $cmd in
    up) do_up "$@" ;;
    down) do_down "$@" ;;
    sweep) do_sweep "$@" ;;
    exec) do_exec "$@" ;;
    servers) do_servers "$@" ;;
    stop-servers) do_stop_servers "$@" ;;
    demo) do_demo "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
