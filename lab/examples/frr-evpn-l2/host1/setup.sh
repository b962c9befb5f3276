#!/bin/bash
# host1: one address in VLAN 10's subnet.
ip addr add 192.168.10.2/24 dev eth1
ip link set eth1 up
