# scripts/test-postgres.sh: sourced by the wrapper test runners (tests/c/run,
# bindings/python/run-tests, bindings/csharp/run-tests) so that each runs its
# PostgreSQL tests whether or not scripts/test started a cluster for it.
#
#   ensure_test_postgres NAME BASE_PORT
#     With ASYNCOP_TEST_POSTGRES set (scripts/test exports it), uses that cluster.
#     Without it, starts a throwaway cluster with scripts/pg-cluster on the first
#     free port from BASE_PORT up, exports ASYNCOP_TEST_POSTGRES, and stops the
#     cluster when the runner exits (so a runner alone still tests PostgreSQL:
#     never a silent skip). Returns 1 if no cluster could be started.
#   stop_test_postgres: what the EXIT trap runs; callers with their own EXIT
#     trap call it from theirs (bash keeps one trap per signal).

test_pg_dir=""

stop_test_postgres() {
  if [[ -n $test_pg_dir ]]; then
    scripts/pg-cluster stop "$test_pg_dir" || true
    test_pg_dir=""
  fi
}

# Whether something listens on 127.0.0.1:PORT (bash's /dev/tcp; no extra tool).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_test_postgres() {
  local name=$1 port=$2 tries=0 url
  if [[ -n ${ASYNCOP_TEST_POSTGRES:-} ]]; then
    echo "=== ${name}: PostgreSQL tests against ASYNCOP_TEST_POSTGRES=$ASYNCOP_TEST_POSTGRES"
    return 0
  fi
  # Other runners (and other checkouts) may hold a port: try the next ones. Two
  # runners racing for one port lose nothing: the loser's start fails, it moves on.
  while ((tries < 20)); do
    if ! port_in_use "$port"; then
      test_pg_dir=$(mktemp -d "/tmp/asyncop-pg-${name}.XXXXXX")
      if url=$(scripts/pg-cluster start "$test_pg_dir" "$port" 2>"$test_pg_dir.log"); then
        rm -f "$test_pg_dir.log"
        export ASYNCOP_TEST_POSTGRES=$url
        echo "=== ${name}: started a PostgreSQL cluster for this run: $url"
        return 0
      fi
      scripts/pg-cluster stop "$test_pg_dir" >/dev/null 2>&1 || true
      if ((tries < 19)); then rm -f "$test_pg_dir.log"; fi
      test_pg_dir=""
    fi
    port=$((port + 1))
    tries=$((tries + 1))
  done
  echo "=== ${name}: cannot start a PostgreSQL cluster (scripts/pg-cluster); last log:" >&2
  tail -n 20 "/tmp/asyncop-pg-${name}".*.log >&2 2>/dev/null
  rm -f "/tmp/asyncop-pg-${name}".*.log
  return 1
}
