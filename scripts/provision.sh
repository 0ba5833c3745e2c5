#!/usr/bin/env bash
# Install the system packages the test tiers need, when they are missing: clickhouse-server and -client
# (the store), kcat (the benchmarks' ceiling), Java and Maven (the local Kafka broker), chromium and
# chromium-driver (the browser tests) and a CJK font (so screenshots show the Chinese labels).
# Used by `make test` and `.ci/run`. As root on Debian it apt-installs them; otherwise it prints one line
# naming what is missing (and the tests that need it then fail, saying so) and exits 0.
set -euo pipefail

need=()
command -v clickhouse-server >/dev/null || need+=(clickhouse-server)
command -v clickhouse-client >/dev/null || need+=(clickhouse-client)
command -v kcat >/dev/null || need+=(kcat)
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "provision: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "provision: missing ${need[*]} — install them (Debian: sudo apt-get install ${need[*]}) for every test tier to run"
fi
