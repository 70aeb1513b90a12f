# Sourced by docker/image/build.sh and docker/compose-demo.sh: start Debian's dockerd when none
# runs, and when this script started it, stop it by PID and put back what it changed on the host.
#
# The daemon config keeps Docker off the host's firewall and sysctls: "iptables": false and
# "ip-forward": false (the lb testbed's networks are internal bridges: nothing is routed or
# NATed by the host, and bridged frames pass the host's FORWARD chain, whose policy stays
# ACCEPT), and every address Docker may pick (its docker0 bridge, any pool) is inside
# 198.18.0.0/15. A snapshot of `iptables -S` (filter and nat) taken before start is compared
# after stop, and whatever differs is undone anyway, as is docker0.
readonly DOCKER=/usr/bin/docker DOCKERD=/usr/sbin/dockerd   # another docker client may come first in PATH
readonly DOCKERD_CONFIG=/etc/docker/daemon.json
readonly DOCKERD_BIP=198.19.250.1/24 DOCKERD_POOL=198.19.0.0/16
DOCKERD_PID="" DOCKERD_STATE=""

dockerd_log() { echo "dockerd: $*" >&2; }

# True when a daemon answers on the default socket.
dockerd_running() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

dockerd_ensure() {
  dockerd_running && return 0
  DOCKERD_STATE=$(mktemp -d /tmp/lb-dockerd.XXXXXX)
  local table
  for table in filter nat; do iptables -t "$table" -S >"$DOCKERD_STATE/iptables.$table.before"; done
  sysctl -n net.ipv4.ip_forward >"$DOCKERD_STATE/ip_forward.before"
  ip link show docker0 >/dev/null 2>&1 && touch "$DOCKERD_STATE/docker0.existed"
  mkdir -p /etc/docker
  [ ! -e "$DOCKERD_CONFIG" ] || cp -p "$DOCKERD_CONFIG" "$DOCKERD_STATE/daemon.json.before"
  cat >"$DOCKERD_CONFIG" <<JSON
{
  "bip": "$DOCKERD_BIP",
  "default-address-pools": [{"base": "$DOCKERD_POOL", "size": 24}],
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false
}
JSON
  dockerd_log "starting $DOCKERD (log $DOCKERD_STATE/dockerd.log)"
  # setsid: dockerd leads its own process group, so a Ctrl-C reaches only this script, which
  # then stops dockerd by PID.
  setsid "$DOCKERD" >"$DOCKERD_STATE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  local deadline=$((SECONDS + 60))
  until dockerd_running; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      dockerd_log "dockerd exited or did not answer within 60 s; its log:"
      tail -n 20 "$DOCKERD_STATE/dockerd.log" >&2
      dockerd_stop_if_started
      return 1
    fi
    sleep 0.5
  done
}

# Stops dockerd only when dockerd_ensure started it, then undoes its traces on the host.
dockerd_stop_if_started() {
  [ -n "$DOCKERD_STATE" ] || return 0
  if [ -n "$DOCKERD_PID" ]; then
    dockerd_log "stopping dockerd (PID $DOCKERD_PID)"
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$DOCKERD_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null || true
    DOCKERD_PID=""
  fi
  dockerd_restore_iptables
  [ "$(sysctl -n net.ipv4.ip_forward)" = "$(cat "$DOCKERD_STATE/ip_forward.before")" ] ||
    { dockerd_log "putting back net.ipv4.ip_forward"; sysctl -q -w net.ipv4.ip_forward="$(cat "$DOCKERD_STATE/ip_forward.before")"; }
  if [ ! -e "$DOCKERD_STATE/docker0.existed" ] && ip link show docker0 >/dev/null 2>&1; then
    ip link del docker0
  fi
  if [ -e "$DOCKERD_STATE/daemon.json.before" ]; then
    cp -p "$DOCKERD_STATE/daemon.json.before" "$DOCKERD_CONFIG"
  else
    rm -f "$DOCKERD_CONFIG"
  fi
  rm -rf "$DOCKERD_STATE"
  DOCKERD_STATE=""
}

# Undoes what changed in the filter and nat tables since dockerd_ensure's snapshot: rules added
# (deleted, last first), chains created (flushed, deleted), policies changed (put back).
dockerd_restore_iptables() {
  local table line changed=0
  for table in filter nat; do
    iptables -t "$table" -S >"$DOCKERD_STATE/iptables.$table.after"
    cmp -s "$DOCKERD_STATE/iptables.$table.before" "$DOCKERD_STATE/iptables.$table.after" && continue
    changed=1
    grep '^-A ' "$DOCKERD_STATE/iptables.$table.after" | grep -vxFf "$DOCKERD_STATE/iptables.$table.before" | tac |
      while read -r line; do eval "iptables -t $table -D ${line#-A }"; done || true
    local new_chains
    new_chains=$(grep "^-N " "$DOCKERD_STATE/iptables.$table.after" | grep -vxFf "$DOCKERD_STATE/iptables.$table.before" | cut -d" " -f2 || true)
    for line in $new_chains; do iptables -t "$table" -F "$line"; done   # chains may jump to each other: flush all first
    for line in $new_chains; do iptables -t "$table" -X "$line"; done
    grep '^-P ' "$DOCKERD_STATE/iptables.$table.before" |
      while read -r line; do eval "iptables -t $table ${line}"; done || true
  done
  [ "$changed" -eq 0 ] || dockerd_log "put back the iptables rules, chains and policies dockerd changed"
}
