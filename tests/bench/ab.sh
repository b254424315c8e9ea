#!/usr/bin/env bash
# Two builds of the server on one route, measured alternately in one run (the machine is noisy:
# the same build moves by 10 % from run to run, so a change is judged against the build before
# it in the same run, never against a figure from another run).
#
#   cp target/release/xinli /tmp/before   # build, copy, change, build again
#   bash tests/bench/ab.sh /tmp/before target/release/xinli ['/api/v1/articles?page_size=20']
#   PG=1 bash tests/bench/ab.sh …         # PostgreSQL + Redis (databases ab_a and ab_b)
#
# ROUNDS (default 6) rounds of DURATION seconds (default 4) per build, wrk -t1 -c32. Prints
# each build's requests per second, the medians and the median of the pairwise ratios.
set -euo pipefail
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
[ $# -ge 2 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
A=$1 B=$2 ROUTE=${3:-/api/v1/articles?page_size=20}
ROUNDS=${ROUNDS:-6} DURATION=${DURATION:-4}
work=$(mktemp -d)
cleanup() { kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start BINARY NAME: prints the port
start() {
  local port db
  port=$(free_port)
  if [ -n "${PG:-}" ]; then
    psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $2" -c "create database $2" >/dev/null 2>&1
    db=postgres://postgres@127.0.0.1:5432/$2
    XINLI_REDIS_URL=redis://127.0.0.1:6379 XINLI_REDIS_PREFIX="$2:" XINLI_DATABASE_URL=$db \
      XINLI_BIND=127.0.0.1:$port XINLI_DEV_MODE=true RUST_LOG=${RUST_LOG:-info} "$1" > "$work/$2.log" 2>&1 &
  else
    XINLI_DATABASE_URL="sqlite://$work/$2.db?mode=rwc" \
      XINLI_BIND=127.0.0.1:$port XINLI_DEV_MODE=true RUST_LOG=${RUST_LOG:-info} "$1" > "$work/$2.log" 2>&1 &
  fi
  echo $! > "$work/$2.pid"   # start runs in a subshell: the pid is kept in a file
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  echo "$port"
}
pa=$(start "$A" ab_a)
pb=$(start "$B" ab_b)
rps() { wrk -t1 -c32 -d"$2" "http://127.0.0.1:$1$ROUTE" | awk '/Requests\/sec/ {print $2}'; }
rps "$pa" 2s >/dev/null
rps "$pb" 2s >/dev/null
ra=() rb=()
for _ in $(seq 1 "$ROUNDS"); do
  ra+=("$(rps "$pa" "${DURATION}s")")
  rb+=("$(rps "$pb" "${DURATION}s")")
done
backend=SQLite
[ -z "${PG:-}" ] || backend="PostgreSQL + Redis"
echo "GET $ROUTE ($backend), $ROUNDS x ${DURATION}s alternately"
echo "A $A: ${ra[*]}"
echo "B $B: ${rb[*]}"
python3 - "${ra[*]}" "${rb[*]}" <<'PY'
import statistics as s, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
print(f"median A {s.median(a):.0f}, B {s.median(b):.0f} req/s; B/A {s.median(b) / s.median(a):.3f}, "
      f"pairwise B/A median {s.median([y / x for x, y in zip(a, b)]):.3f}")
PY
