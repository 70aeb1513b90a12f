#!/usr/bin/env bash
# The lb testbed: network namespaces joined by veths and two Linux bridges, with clients, a
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
readonly PYTHON=/usr/bin/python3   # a pyenv python may shadow python3 on PATH
readonly MAX_SERVERS=50

# Addresses, all from 198.18.0.0/15. lb's own addresses (client side 198.18.0.1, VIPs
# 198.18.0.100-.199, server gateway 198.18.1.1) exist only in lb's user space.
readonly LB_CLIENT_IP=198.18.0.1
readonly LB_GATEWAY_IP=198.18.1.1
readonly VIP=198.18.0.100
readonly RT_CLIENT_IP=198.18.0.2
readonly RT_LEG_IP=198.18.2.1
readonly LEG_NET=198.18.2.0/24
readonly -A CLIENT_IPS=([c1]=198.18.0.11 [c2]=198.18.0.12 [c3]=198.18.2.11)
server_ip() { echo "198.18.1.$((10 + $1))"; }

usage() {
  cat <<EOF
Usage: docker/testbed.sh COMMAND [OPTIONS]   (needs root)

Commands:
  up [--prefix P] [--offloads on|off] [--servers N]
      Create the namespaces P-sw, P-lb, P-c1, P-c2, P-rt, P-c3, P-s1..P-sN (N: 1..$MAX_SERVERS,
      default 3; P default "lbt" + 6 random hex digits). --offloads off turns tso, gso, gro,
      tx and rx checksumming off on every veth (default on, the kernel default).
      Prints shell-parsable lines: PREFIX=, STATE_FILE=, OFFLOADS=, SERVERS=, NAMESPACES=,
      and NS_<role>= for every role.
  down --prefix P
      Kill the PIDs recorded for P, delete the namespaces recorded for P. Idempotent.
  exec --prefix P ROLE CMD [ARG...]
      Run CMD in namespace P-ROLE (ip netns exec).
  servers --prefix P [--files DIR]
      Start in each server namespace an HTTP server on port 80 (GET /whoami: the server's IP;
      GET /file/NAME: NAME from DIR, default $STATE_DIR/P.files) and a UDP echo server on
      port 5353 (reply: "<server ip> " + the datagram).
  stop-servers --prefix P
      Stop the servers started by 'servers'.
  demo [--offloads on|off] [--servers N] [--requests N]
      Install missing packages, build lb if needed, bring a fresh testbed up, start the
      servers and lb, send N (default 300) HTTP requests to http://$VIP/whoami from c1, c2
      and c3, print the requests per backend and lb's counters, tear everything down.
      Exit code 0 only when no request failed. Logs stay in /tmp/lb-demo-<prefix>/.
      LB_MVN_ARGS adds arguments to the mvn build (e.g. LB_MVN_ARGS=-o).

Topology:
  client LAN 198.18.0.0/24, bridge brc in P-sw: c1 .11, c2 .12, rt .2, lb's cli0
  server LAN 198.18.1.0/24, bridge brs in P-sw: s1 .11, s2 .12, ..., lb's srv0
  router leg 198.18.2.0/24, a veth from rt (.1) to c3 (.11)
  lb's interfaces have no kernel addresses: lb answers for $LB_CLIENT_IP, the VIPs
  198.18.0.100-.199 and the servers' gateway $LB_GATEWAY_IP in user space.
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
# ns NAME ROLE, pid PID STARTTIME KIND ROLE, dir PATH, file PATH, ready.
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

do_up() {
  local prefix="" offloads=on servers=3
  while [ $# -gt 0 ]; do
    case $1 in
      --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
      --offloads) offloads=${2:?--offloads needs on or off}; shift 2 ;;
      --servers) servers=${2:?--servers needs a number}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "up: unknown argument '$1' (see --help)" ;;
    esac
  done
  require_netns
  [ -n "$prefix" ] || prefix=$(random_prefix)
  check_prefix "$prefix"
  [[ $offloads == on || $offloads == off ]] || die "--offloads must be on or off, not '$offloads'"
  int_in "$servers" 1 "$MAX_SERVERS" || die "--servers must be 1..$MAX_SERVERS, not '$servers'"
  require_tool ethtool ethtool
  require_tool sysctl procps

  local sw="$prefix-sw" lb="$prefix-lb" rt="$prefix-rt" i role
  local roles=(sw lb c1 c2 rt c3)
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
  state_add "$prefix" "offloads $offloads"
  state_add "$prefix" "servers $servers"

  for role in "${roles[@]}"; do
    ip netns add "$prefix-$role"
    state_add "$prefix" "ns $prefix-$role $role"
    ip -n "$prefix-$role" link set lo up
    # No IPv6 anywhere: keeps the LANs free of router solicitations, MLD and DAD.
    ip netns exec "$prefix-$role" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done

  # The switch: two bridges, STP off (ports forward at once). Bridged frames must not pass
  # through iptables when br_netfilter is loaded.
  if ip netns exec "$sw" test -d /proc/sys/net/bridge; then
    ip netns exec "$sw" sysctl -q -w net.bridge.bridge-nf-call-iptables=0 \
      net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0
  fi
  ip -n "$sw" link add brc type bridge stp_state 0 mcast_snooping 0
  ip -n "$sw" link add brs type bridge stp_state 0 mcast_snooping 0

  veth "$prefix-c1" eth0 "$sw" c1
  veth "$prefix-c2" eth0 "$sw" c2
  veth "$rt" eth0 "$sw" rt
  veth "$lb" cli0 "$sw" lbc
  veth "$lb" srv0 "$sw" lbs
  veth "$rt" eth1 "$prefix-c3" eth0
  for ((i = 1; i <= servers; i++)); do veth "$prefix-s$i" eth0 "$sw" "s$i"; done
  for role in c1 c2 rt lbc; do ip -n "$sw" link set "$role" master brc; done
  ip -n "$sw" link set lbs master brs
  for ((i = 1; i <= servers; i++)); do ip -n "$sw" link set "s$i" master brs; done

  if [ "$offloads" = off ]; then
    local end end_ns end_dev
    for end in "${VETHS[@]}"; do
      read -r end_ns end_dev <<<"$end"
      ip netns exec "$end_ns" ethtool -K "$end_dev" tso off gso off gro off tx off rx off >/dev/null
    done
  fi

  # lb: interfaces up, no addresses, no forwarding: the kernel neither answers ARP nor sends
  # ICMP or RSTs for lb's addresses; lb does all of it in user space.
  ip netns exec "$lb" sysctl -q -w net.ipv4.ip_forward=0
  ip -n "$lb" link set cli0 up
  ip -n "$lb" link set srv0 up
  # lb's own interfaces send wire-size frames with complete checksums, as an appliance's NICs
  # would: the kernel segments the GSO frames lb forwards and finishes their checksums. The
  # peers keep their offloads (unless --offloads off), so lb still receives GSO super-frames.
  ip netns exec "$lb" ethtool -K cli0 tso off gso off tx off >/dev/null
  ip netns exec "$lb" ethtool -K srv0 tso off gso off tx off >/dev/null
  # lb's packet sockets get every frame before tc ingress runs; after that nothing in the lb
  # namespace's kernel wants them, so drop them there instead of letting the IP stack parse and
  # discard each one (a classic-BPF direct-action program returning TC_ACT_SHOT: no action
  # modules needed). To use the lb namespace as a plain kernel router instead (the benchmark's
  # kernel peers), remove it: tc qdisc del dev cli0 clsact (and srv0).
  local dev
  for dev in cli0 srv0; do
    ip netns exec "$lb" tc qdisc add dev "$dev" clsact
    ip netns exec "$lb" tc filter add dev "$dev" ingress bpf da bytecode "1,6 0 0 2,"
  done

  local c
  for c in c1 c2; do
    ip -n "$prefix-$c" addr add "${CLIENT_IPS[$c]}/24" dev eth0
    ip -n "$prefix-$c" link set eth0 up
    # Only so that c3 (behind the router) gets replies from c1 and c2; VIP traffic is on-link.
    ip -n "$prefix-$c" route add "$LEG_NET" via "$RT_CLIENT_IP"
  done

  ip -n "$rt" addr add "$RT_CLIENT_IP/24" dev eth0
  ip -n "$rt" addr add "$RT_LEG_IP/24" dev eth1
  ip -n "$rt" link set eth0 up
  ip -n "$rt" link set eth1 up
  ip netns exec "$rt" sysctl -q -w net.ipv4.ip_forward=1

  ip -n "$prefix-c3" addr add "${CLIENT_IPS[c3]}/24" dev eth0
  ip -n "$prefix-c3" link set eth0 up
  ip -n "$prefix-c3" route add default via "$RT_LEG_IP"

  for ((i = 1; i <= servers; i++)); do
    ip -n "$prefix-s$i" addr add "$(server_ip "$i")/24" dev eth0
    ip -n "$prefix-s$i" link set eth0 up
    ip -n "$prefix-s$i" route add default via "$LB_GATEWAY_IP"
  done

  local port
  for port in brc brs c1 c2 rt lbc lbs; do ip -n "$sw" link set "$port" up; done
  for ((i = 1; i <= servers; i++)); do ip -n "$sw" link set "s$i" up; done

  [ -z "$(ip -n "$lb" -4 -o addr show dev cli0)$(ip -n "$lb" -4 -o addr show dev srv0)" ] \
    || die "lb's interfaces have IPv4 addresses"

  state_add "$prefix" ready
  UP_DONE=1
  trap - EXIT INT TERM

  local names=()
  for role in "${roles[@]}"; do names+=("$prefix-$role"); done
  echo "PREFIX=$prefix"
  echo "STATE_FILE=$state"
  echo "OFFLOADS=$offloads"
  echo "SERVERS=$servers"
  echo "NAMESPACES=\"${names[*]}\""
  for role in "${roles[@]}"; do echo "NS_$role=$prefix-$role"; done
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
  if grep -q -E '^pid [0-9]+ [0-9]+ server ' "$(state_file "$prefix")"; then
    die "servers: already started for '$prefix' (stop-servers first)"
  fi
  if [ -z "$files" ]; then
    files="$STATE_DIR/$prefix.files"
    mkdir -p "$files"
    state_add "$prefix" "dir $files"
  fi
  [ -d "$files" ] || die "servers: '$files' is not a directory"
  files=$(cd "$files" && pwd)

  local servers i ns ip pidfile logfile pid w started=()
  servers=$(state_get "$prefix" servers)
  for ((i = 1; i <= servers; i++)); do
    ns="$prefix-s$i"
    ip=$(server_ip "$i")
    pidfile="$STATE_DIR/$prefix.s$i.pid"
    logfile="$STATE_DIR/$prefix.s$i.log"
    rm -f "$pidfile"
    state_add "$prefix" "file $pidfile"
    state_add "$prefix" "file $logfile"
    setsid ip netns exec "$ns" "$PYTHON" "$SERVER_PY" --ip "$ip" --files "$files" \
      --pidfile "$pidfile" </dev/null >"$logfile" 2>&1 &
    started+=("$! s$i $pidfile $logfile")
  done
  local entry bgpid role
  for entry in "${started[@]}"; do
    read -r bgpid role pidfile logfile <<<"$entry"
    # The server writes its pidfile once its sockets are bound: wait for it, at most 10 s.
    for ((w = 0; w < 100; w++)); do
      [ ! -s "$pidfile" ] || break
      kill -0 "$bgpid" 2>/dev/null || break
      sleep 0.1
    done
    if [ ! -s "$pidfile" ]; then
      kill -TERM "$bgpid" 2>/dev/null || true
      die "servers: the server in $prefix-$role did not start; its log $logfile says: $(tail -n 5 "$logfile" 2>/dev/null)"
    fi
    pid=$(<"$pidfile")
    record_pid "$prefix" "$pid" server "$role"
    echo "SERVER_$role=$(server_ip "${role#s}") pid $pid"
  done
  echo "FILES_DIR=$files"
}

do_stop_servers() {
  parse_prefix_only stop-servers "$@"
  require_netns
  require_state "$PREFIX"
  kill_recorded_kind "$PREFIX" server
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
  local offloads=on servers=3 requests=300
  while [ $# -gt 0 ]; do
    case $1 in
      --offloads) offloads=${2:?--offloads needs on or off}; shift 2 ;;
      --servers) servers=${2:?--servers needs a number}; shift 2 ;;
      --requests) requests=${2:?--requests needs a number}; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "demo: unknown argument '$1' (see --help)" ;;
    esac
  done
  int_in "$requests" 3 10000 || die "--requests must be 3..10000, not '$requests'"
  require_root
  bash "$SCRIPT_DIR/deps.sh"
  require_netns
  require_tool curl curl
  demo_build

  local prefix up_out
  prefix=$(random_prefix)
  trap demo_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # On failure, up deletes what it created itself; the demo owns the testbed once up succeeded.
  up_out=$(bash "$SELF" up --prefix "$prefix" --offloads "$offloads" --servers "$servers")
  DEMO_PREFIX=$prefix
  echo "$up_out" >&2
  bash "$SELF" servers --prefix "$prefix" >&2

  local logs="/tmp/lb-demo-$prefix" i backends=()
  mkdir -p "$logs"
  for ((i = 1; i <= servers; i++)); do backends+=("$(server_ip "$i")"); done
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
  lb_cmd+=(--client-if cli0 --server-if srv0 --client-ip "$LB_CLIENT_IP" --gateway-ip "$LB_GATEWAY_IP"
    --vip "$VIP:80/tcp" --backends "$backend_list" --scheduler rr --control-socket "$control_socket")
  log "demo: starting lb in $prefix-lb: ${lb_cmd[*]}"
  # setsid: lb leads its own process group, so a Ctrl-C here reaches only this script, which
  # then stops lb by PID.
  setsid ip netns exec "$prefix-lb" "${lb_cmd[@]}" </dev/null >"$logs/lb.out" 2>"$logs/lb.err" &
  DEMO_LB_PID=$!
  DEMO_LB_START=$(proc_start_time "$DEMO_LB_PID")
  [ -z "$DEMO_LB_START" ] || state_add "$prefix" "pid $DEMO_LB_PID $DEMO_LB_START lb lb"

  local url="http://$VIP/whoami" deadline=$((SECONDS + 20)) answered=0
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
    if ip netns exec "$prefix-c1" curl -s -o /dev/null --max-time 1 "$url"; then
      answered=1
      break
    fi
    sleep 0.2
  done
  if [ "$answered" -ne 1 ]; then
    [ -z "$DEMO_LB_PID" ] || log "demo: the VIP $VIP did not answer within 20 s"
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
    ip netns exec "$prefix-$c" timeout $((n * 2 + 10)) curl -s --max-time 2 -H 'Connection: close' \
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
    exec) do_exec "$@" ;;
    servers) do_servers "$@" ;;
    stop-servers) do_stop_servers "$@" ;;
    demo) do_demo "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
