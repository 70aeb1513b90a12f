#!/usr/bin/env bash
# Builds the lb appliance image with no registry: docker/image/build.sh --help
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR REPO_ROOT
# shellcheck source=docker/image/dockerd.sh
. "$SCRIPT_DIR/dockerd.sh"

readonly BASE_IMAGE=lb-base:bookworm LB_IMAGE=lb:latest
# The packages every testbed container needs on top of minbase: lb's entrypoint uses ip, tc and
# ethtool; the servers run docker/testbed_server.py (python3) and the client curl.
readonly BASE_PACKAGES=iproute2,ethtool,python3,curl
# lb.jar's modules (jdeps --print-module-deps) plus jdk.unsupported, which Agrona reaches for
# sun.misc.Unsafe by reflection: the smallest runtime that runs lb and lbctl.
readonly EXTRA_MODULES=jdk.unsupported

usage() {
  cat <<USAGE
Usage: sudo docker/image/build.sh [--rebuild-base]

Builds two local images, starting Debian's dockerd for the build when none runs (and stopping it
afterwards, with the host's iptables and docker0 put back):
  $BASE_IMAGE  debootstrap --variant=minbase bookworm from the Debian mirror apt uses, with
                     $BASE_PACKAGES, imported with docker import. Built only when missing
                     (or with --rebuild-base): the cache between runs.
  $LB_IMAGE         FROM $BASE_IMAGE (docker/Dockerfile): a jlink Java runtime made here from
                     this machine's JDK 17, lb.jar, bin/lb, bin/lbctl, docker/lb-entrypoint.sh,
                     HEALTHCHECK lbctl show info. Rebuilt every time (Docker's layer cache makes
                     an unchanged one instant). Builds lb.jar with Maven if it is missing
                     (LB_MVN_ARGS adds arguments, e.g. -o).
Prints the images' sizes and how long each step took.
USAGE
}

log() { echo "build: $*" >&2; }
die() { echo "build: error: $*" >&2; exit 1; }

rebuild_base=0
case "${1:-}" in
  "") ;;
  --rebuild-base) rebuild_base=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; die "unknown option '$1'" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root (dockerd, debootstrap)"
for tool in "$DOCKER:docker.io" /usr/sbin/debootstrap:debootstrap jlink:openjdk-17-jdk-headless jdeps:openjdk-17-jdk-headless; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || die "'${tool%%:*}' not found: apt-get install ${tool#*:}"
done

WORK=""
on_exit() {
  [ -z "$WORK" ] || rm -rf "$WORK"
  dockerd_stop_if_started
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
WORK=$(mktemp -d /tmp/lb-image.XXXXXX)

# The first deb URI of apt's own sources: the mirror this machine already reaches.
debian_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
    grep -E 'debian/?( |$)' | head -n 1 | awk '$1 == "URIs:" {print $2; exit} $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^http/) {print $i; exit}}')
  echo "${uri:-http://deb.debian.org/debian}"
}

build_base() {
  local mirror root start=$SECONDS
  mirror=$(debian_mirror)
  root="$WORK/rootfs"
  log "debootstrap --variant=minbase --include=$BASE_PACKAGES bookworm from $mirror (about 1-2 min)"
  /usr/sbin/debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # The downloaded .debs and apt's lists are not needed at run time.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import - "$BASE_IMAGE" >/dev/null
  log "$BASE_IMAGE built in $((SECONDS - start)) s"
}

build_lb() {
  local start=$SECONDS jar="$REPO_ROOT/lb-control/target/lb.jar" context="$WORK/context" modules
  if [ ! -f "$jar" ]; then
    log "lb.jar missing: mvn -B -q ${LB_MVN_ARGS:-} -DskipTests install"
    # shellcheck disable=SC2086
    (cd "$REPO_ROOT" && mvn -B -q ${LB_MVN_ARGS:-} -DskipTests install) >&2
  fi
  mkdir -p "$context"
  modules=$( (jdeps --ignore-missing-deps --print-module-deps --multi-release 17 "$jar" | tr , '\n'; echo "$EXTRA_MODULES") |
    sort -u | paste -sd,)
  log "jlink --add-modules $modules"
  jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=2 \
    --output "$context/jre"
  cp "$jar" "$context/lb.jar"
  cp "$REPO_ROOT/bin/lb" "$REPO_ROOT/bin/lbctl" "$REPO_ROOT/docker/lb-entrypoint.sh" "$context/"
  "$DOCKER" build -q -f "$REPO_ROOT/docker/Dockerfile" -t "$LB_IMAGE" "$context" >/dev/null
  log "$LB_IMAGE built in $((SECONDS - start)) s"
}

dockerd_ensure
if [ "$rebuild_base" -eq 1 ] || ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  build_base
else
  log "$BASE_IMAGE present: not rebuilt (--rebuild-base to rebuild)"
fi
build_lb
"$DOCKER" image ls --format 'build: image {{.Repository}}:{{.Tag}} {{.Size}}' "$BASE_IMAGE" >&2
"$DOCKER" image ls --format 'build: image {{.Repository}}:{{.Tag}} {{.Size}}' "$LB_IMAGE" >&2
