#!/bin/bash
# leaf1: VTEP address, spine link, tenant VRF 'red' (L3 VNI 100), and VLAN 10 as L2 VNI 110
# on bridge br10 with the host port.

# VTEP IP
ip addr add 100.64.0.1/32 dev lo

# Leaf - spine leg
ip addr add 192.168.1.1/31 dev eth1

# L3 VRF
ip link add red type vrf table 1100
ip link set red up

# L3 VNI
ip link add br100 type bridge
ip link set br100 master red addrgenmode none
ip link set br100 addr aa:bb:cc:00:01:64
ip link add vni100 type vxlan local 100.64.0.1 dstport 4789 id 100 nolearning
ip link set vni100 master br100 addrgenmode none
ip link set vni100 type bridge_slave neigh_suppress on learning off
ip link set vni100 up
ip link set br100 up

# L2 VNI, host leg
ip link add br10 type bridge
ip link set br10 master red
ip link set br10 addr aa:bb:cc:00:01:65
ip link add vni110 type vxlan local 100.64.0.1 dstport 4789 id 110 nolearning
ip link set vni110 master br10 addrgenmode none
ip link set vni110 type bridge_slave neigh_suppress on learning off
ip link set vni110 up
ip link set br10 up
ip link set eth2 master br10
