#!/bin/bash
# host2: one address in VLAN 10's subnet.
ip addr add 192.168.10.3/24 dev eth1
ip link set eth1 up
