#!/usr/bin/env bash
# Seeds real Trino clusters with the emulator's datasets, once each, with the Trino CLI that
# ships in the trinodb/trino image. Used by the `seed` service of compose.yaml and by
# `cargo xtask e2e --backend docker` (inside each container).
#
#   seed.sh NAME=URL...        e.g. seed.sh prod=http://prod:8080 staging=http://staging:8080
#
# NAME picks fixtures/datasets/NAME.sql. Per cluster, in order: datasets/common.sql,
# datasets/NAME.sql (both shared with the emulator, unchanged), then all_types.sql and
# synthetic.sql from this directory. Runs as `admin` (the only user who may write
# memory.restricted). A cluster that already has memory.sales is skipped, so `docker compose up`
# can be run again; a failing statement stops everything with the CLI's message.
set -euo pipefail
datasets="${SEED_DATASETS:-/seed/datasets}"
scripts="${SEED_SCRIPTS:-/seed/scripts}"

for arg in "$@"; do
  name="${arg%%=*}"
  server="${arg#*=}"
  if [ -z "$name" ] || [ "$name" = "$arg" ]; then
    echo "seed: expected NAME=URL, got '$arg'" >&2
    exit 2
  fi
  cli=(trino --server "$server" --user admin)
  # /v1/info says "starting":false a moment before the node can run queries
  # (NO_NODES_AVAILABLE): retry a trivial query first.
  for try in $(seq 1 90); do
    if "${cli[@]}" --execute "SELECT 1" >/dev/null 2>&1; then
      break
    fi
    if [ "$try" = 90 ]; then
      echo "seed: $name ($server) does not run queries after 90 s" >&2
      "${cli[@]}" --execute "SELECT 1" >&2 || true
      exit 1
    fi
    sleep 1
  done
  present="$("${cli[@]}" --output-format TSV --execute "SHOW SCHEMAS FROM memory LIKE 'sales'")"
  if [ "$present" = "sales" ]; then
    echo "seed: $name ($server) already seeded"
    continue
  fi
  for file in "$datasets/common.sql" "$datasets/$name.sql" "$scripts/all_types.sql" "$scripts/synthetic.sql"; do
    echo "seed: $name ($server) <- $file"
    "${cli[@]}" --file "$file" >/dev/null
  done
  rows="$("${cli[@]}" --output-format TSV --execute "SELECT count(*) FROM memory.sales.users")"
  echo "seed: $name done (memory.sales.users: $rows rows)"
done
