#!/usr/bin/env bash
# The lb demo through containers: docker/compose-demo.sh --help
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly COMPOSE=/usr/bin/docker-compose COMPOSE_FILE="$SCRIPT_DIR/compose.yaml"
readonly VIP=198.19.10.100 BACKENDS=(198.19.11.11 198.19.11.12 198.19.11.13)
readonly DEMO_NETS=198.19.10.0/23   # compose.yaml's clients 198.19.10.0/24 and servers 198.19.11.0/24
readonly MAX_REQUESTS=10000

usage() {
  cat <<USAGE
Usage: sudo docker/compose-demo.sh [--requests N]

The demo of docker/testbed.sh, through containers (docker/compose.yaml): installs docker.io,
docker-compose and debootstrap if missing, starts dockerd if none runs, builds the images
(docker/image/build.sh: the base image only when missing, lb.jar with Maven only when missing),
starts the client, lb and three servers under a fresh compose project, waits for lb's
HEALTHCHECK (lbctl show info) to report healthy, sends N (default 300, at most $MAX_REQUESTS)
HTTP requests from the client to http://$VIP/whoami, each on a new connection, and prints:
  health: lb healthy
  backend <ip> <requests>        (one line per backend)
  lb's counters (lbctl show stat, lbctl show drops: the reasons that counted)
  demo: N requests, F failed
Then removes the project's containers and networks, and stops dockerd (putting back the
host's iptables and docker0) if it started it, also on failure. Exit code 0 only when lb was
healthy and no request failed. Only one demo at a time per host: the networks' subnets are fixed.
USAGE
}

log() { echo "compose-demo: $*" >&2; }
die() { echo "compose-demo: error: $*" >&2; exit 1; }

requests=300
while [ $# -gt 0 ]; do
  case $1 in
    --requests)
      [[ ${2:-} =~ ^[0-9]{1,5}$ ]] && [ "$2" -ge 1 ] && [ "$2" -le "$MAX_REQUESTS" ] ||
        die "--requests: want 1..$MAX_REQUESTS, got '${2:-}'"
      requests=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "must run as root (dockerd, debootstrap, the containers' NET_ADMIN)"

need=()
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || need+=(docker.io)
[ -x "$COMPOSE" ] || need+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# shellcheck source=docker/image/dockerd.sh
. "$SCRIPT_DIR/image/dockerd.sh"

PROJECT="lbdemo$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
readonly PROJECT
LOGS="/tmp/lb-compose-demo-$PROJECT"
readonly LOGS
UP=0 FORWARD_RULE=()
compose() { "$COMPOSE" -p "$PROJECT" -f "$COMPOSE_FILE" "$@"; }
on_exit() {
  local status=$?
  if [ "$UP" -eq 1 ]; then
    compose logs --no-color >"$LOGS/compose.log" 2>&1 || true
    [ "$status" -eq 0 ] || { log "lb's log (last 20 lines; all in $LOGS/compose.log):"; compose logs --no-color --tail 20 lb >&2 || true; }
    compose down --volumes --remove-orphans --timeout 10 >"$LOGS/compose-down.log" 2>&1 || { cat "$LOGS/compose-down.log" >&2; log "docker-compose down failed"; }
  fi
  [ ${#FORWARD_RULE[@]} -eq 0 ] || iptables -D DOCKER-USER "${FORWARD_RULE[@]}" || log "cannot delete the DOCKER-USER rule"
  dockerd_stop_if_started
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$LOGS"

dockerd_ensure
# A dockerd that was already running may manage iptables: its isolation rules drop what lb
# forwards between the two internal networks, unless DOCKER-USER accepts it first.
if iptables -S DOCKER-USER >/dev/null 2>&1; then
  FORWARD_RULE=(-s "$DEMO_NETS" -d "$DEMO_NETS" -j ACCEPT)
  iptables -I DOCKER-USER "${FORWARD_RULE[@]}"
fi
"$SCRIPT_DIR/image/build.sh"
log "project $PROJECT: docker-compose up (logs in $LOGS)"
UP=1
compose up -d >"$LOGS/compose-up.log" 2>&1 || { cat "$LOGS/compose-up.log" >&2; die "docker-compose up failed"; }

lb_id=$(compose ps -q lb)
health="" deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
  health=$("$DOCKER" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Status}}' "$lb_id")
  case $health in
    "healthy "*) break ;;
    *" exited"|*" dead") break ;;
  esac
  sleep 1
done
echo "health: lb ${health%% *}"
if [ "${health%% *}" != healthy ]; then
  log "lb is not healthy within 120 s (state: $health)"
  echo "demo: $requests requests, $requests failed"
  exit 1
fi

url="http://$VIP/whoami"
# The VIP answers once lb has learned the backends' MACs (its ARP probes): wait up to 20 s.
answered=0 deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ]; do
  if compose exec -T client curl -s -o /dev/null --max-time 1 "$url" </dev/null; then answered=1; break; fi
  sleep 0.5
done
if [ "$answered" -ne 1 ]; then
  log "the VIP $VIP did not answer within 20 s"
  echo "demo: $requests requests, $requests failed"
  exit 1
fi

# One curl process, N transfers, each a new connection (Connection: close) so lb schedules each
# one; 2 s at most per request, and the whole run bounded by timeout.
urls=()
for ((i = 0; i < requests; i++)); do urls+=("$url"); done
compose exec -T client timeout $((requests * 2 + 10)) curl -s --max-time 2 -H 'Connection: close' \
  -w ' %{http_code}\n' "${urls[@]}" </dev/null >"$LOGS/curl.out" 2>&1 || true
ok=0
for b in "${BACKENDS[@]}"; do
  n=$(awk -v b="$b" '$1 == b && $2 == 200' "$LOGS/curl.out" | wc -l)
  echo "backend $b $n"
  ok=$((ok + n))
done
compose exec -T lb lbctl show stat </dev/null || log "lbctl show stat failed"
# The drop reasons that counted anything.
compose exec -T lb lbctl show drops </dev/null | awk 'NR == 1 || $2 != 0' || log "lbctl show drops failed"
failed=$((requests - ok))
echo "demo: $requests requests, $failed failed"
[ "$failed" -eq 0 ]
