#!/usr/bin/env bash
# Installs the real components netloom drives and tests against, from Debian's packages:
# FRR (zebra/bgpd/ospfd, vtysh, frr-reload.py), yuma123 netconfd, OpenSSH, tcpdump, tshark,
# iproute2, ping, yanglint and Python's ncclient (an independent NETCONF client for checks),
# nftables and iptables (device faults in rollout tests, firewall rulesets and their oracles),
# haproxy, nginx with its stream module and openssl (load-balancer configs, their oracles, test certificates),
# PowerDNS authoritative with its bind backend and dig (GSLB zones, their oracle, real DNS queries), and what the tests run besides:
# patch(1), python3, mount/umount, unshare/nsenter, git (netloom plan reads revisions with it),
# chromium (the browser test of netloom serve's web view).
# Idempotent: skips apt entirely when everything is present.
set -euo pipefail
pkgs=(git frr frr-pythontools netconfd openssh-server openssh-client tcpdump tshark iproute2 iputils-ping libyang2-tools python3 python3-ncclient procps psmisc patch mount util-linux nftables iptables haproxy nginx libnginx-mod-stream openssl pdns-server pdns-backend-bind dnsutils chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${pkgs[*]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages (${missing[*]}): run this script as root" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged services are not used: netloom starts its own daemons per lab node and test.
for s in frr ssh netconfd haproxy nginx pdns; do systemctl disable --now "$s" >/dev/null 2>&1 || true; done
echo "installed: ${missing[*]}"
