#!/bin/sh
# orderhub from nothing: empty module cache and build cache
d=$(mktemp -d /tmp/mpbench/b.XXXXXX)
cd /tmp/mpbench/src && GOMODCACHE=$d/mod GOCACHE=$d/cache GOFLAGS=-modcacherw go build -o "$d/orderhub" ./cmd/orderhub
r=$?; rm -rf "$d"; exit $r
