#!/bin/sh
# Host set-up from the node's environment (ADDR, GW); runs as the container's command.
set -e
ip addr add "$ADDR" dev eth1
ip link set eth1 up
ip route add default via "$GW"
echo "configured $ADDR via $GW"
