#!/usr/bin/env bash
# Installs the tools the testbed and the end-to-end tests use, from Debian's packages,
# only when one is missing. Needs root. Prints what it installs.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have ip      || need+=(iproute2)
have curl    || need+=(curl)
have ethtool || need+=(ethtool)
have tshark  || need+=(tshark)
# the testbed runs /usr/bin/python3 by path: a pyenv python3 on PATH does not count
[ -x /usr/bin/python3 ] || need+=(python3)
have ping    || need+=(iputils-ping)
have sha256sum || need+=(coreutils)
# lb announces VIPs over BGP through BIRD 2, and the ECMP testbed's router runs it too
[ -x /usr/sbin/bird ] || need+=(bird2)
# docker/compose-demo.sh and ComposeDemoIT: Debian's dockerd, docker-compose 1.29, and
# debootstrap for the image's local base
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || need+=(docker.io)
[ -x /usr/bin/docker-compose ] || need+=(docker-compose)
[ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${need[*]} (run as root, or: apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
