#!/usr/bin/env bash
# Read-path benchmark (#19): requests per second of the service's read routes next to a bare
# actix-web app serving the very same bytes (tests/src/bin/bare_actix.rs: the ceiling of this
# stack on this machine), measured alternately in one run with wrk, and the server's peak
# memory (VmHWM) over the whole run.
#
#   bash tests/bench/read_path.sh                 # embedded default: SQLite + in-process cache
#   XINLI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench XINLI_REDIS_URL=redis://127.0.0.1:6379 \
#     bash tests/bench/read_path.sh               # PostgreSQL + Redis (the database must exist)
#
# DURATION (seconds per round, default 8), ROUNDS (default 3; the median is reported),
# CONNECTIONS (default 32). Needs wrk (apt-get install -y wrk). Release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
cargo build --release -q -p xinli-api --bin xinli -p xinli-tests --bin bare_actix

work=$(mktemp -d)
svc='' bare=''
cleanup() { kill $svc $bare 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
bare_port=$(free_port)

export XINLI_BIND=127.0.0.1:$port XINLI_DEV_MODE=true RUST_LOG=${RUST_LOG:-info}
export XINLI_DATABASE_URL=${XINLI_DATABASE_URL:-sqlite://$work/xinli.db?mode=rwc}
target/release/xinli > "$work/server.log" 2>&1 &
svc=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

# route name -> path on the service
declare -A paths=(
  [healthz]="/healthz"
  [articles]="/api/v1/articles?page_size=20"
  [hotlines]="/api/v1/hotlines"
)
order=(healthz articles hotlines)
mkdir "$work/bodies"
for name in "${order[@]}"; do
  curl -sf "http://127.0.0.1:$port${paths[$name]}" > "$work/bodies/$name"
done
target/release/bare_actix "127.0.0.1:$bare_port" "$work/bodies" > /dev/null 2>&1 &
bare=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$bare_port/healthz" >/dev/null && break
  sleep 0.1
done

rps() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "read path: ${XINLI_DATABASE_URL%%:*}${XINLI_REDIS_URL:+ + Redis}, wrk -t1 -c$CONNECTIONS, ${DURATION}s x $ROUNDS rounds (median), $(nproc) cores shared"
printf '%-42s %10s %10s %7s %8s\n' route service bare ratio bytes
for name in "${order[@]}"; do
  s_runs=() b_runs=()
  for _ in $(seq 1 "$ROUNDS"); do
    s_runs+=("$(rps "http://127.0.0.1:$port${paths[$name]}")")
    b_runs+=("$(rps "http://127.0.0.1:$bare_port/$name")")
  done
  s=$(printf '%s\n' "${s_runs[@]}" | median)
  b=$(printf '%s\n' "${b_runs[@]}" | median)
  printf '%-42s %10.0f %10.0f %7.2f %8d\n' "GET ${paths[$name]}" "$s" "$b" \
    "$(awk -v s="$s" -v b="$b" 'BEGIN {print s / b}')" "$(wc -c < "$work/bodies/$name")"
done
echo "server peak RSS (VmHWM): $(awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$svc/status")"
