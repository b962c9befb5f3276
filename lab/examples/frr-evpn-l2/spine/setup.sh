#!/bin/bash
# Spine: underlay addresses only.
ip addr add 192.168.1.0/31 dev eth1
ip addr add 192.168.2.0/31 dev eth2
