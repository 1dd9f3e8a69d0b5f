#!/usr/bin/env bash
# Fetches the real log agents the tests in test/agents/ run — syslog-ng 3.38 (http() and the
# elasticsearch-http() SCL destination), rsyslog 8.2302 (omelasticsearch) and the Python
# Elasticsearch client 7.17 (for Debian's own python3) — from Debian 12's packages into
# .cache/agents/ (gitignored), without installing them: the two daemons conflict in apt and
# syslog-ng's install script starts a service. So: `apt-get download` the .debs (and whatever
# libraries apt says this machine lacks for them), `dpkg -x` them into .cache/agents/root, and let
# testkit/agents.ts run the daemons from there with LD_LIBRARY_PATH and their module paths.
# Idempotent: a complete cache (its READY file) is reused as it is. AGENTS_DIR overrides the folder.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${AGENTS_DIR:-.cache/agents}"
root="$dir/root"
ready="$dir/READY"
# Each agent is resolved on its own: apt would refuse both at once (they conflict).
agents=(
  "syslog-ng-core syslog-ng-mod-http syslog-ng-scl"
  "rsyslog rsyslog-elasticsearch"
  "python3-elasticsearch"
)
# Debian's python3, which the unpacked client (in $root/usr/lib/python3/dist-packages) is made for.
python=/usr/bin/python3

# A cache from before the Python client was added lacks its line: made again.
if [ -f "$ready" ] && grep -q '^python3-elasticsearch ' "$ready"; then
  echo "agents: $dir is ready ($(tr '\n' ' ' <"$ready"))"
  exit 0
fi

command -v apt-get >/dev/null || { echo "agents: apt-get not found: this script needs Debian 12 (bookworm)" >&2; exit 1; }
echo "agents: apt-get update"
apt-get update -qq

debs="$dir/debs"
rm -rf "$debs" "$root"
mkdir -p "$debs" "$root"

# What apt would install for each agent on this machine (its own resolver, nothing installed):
# the agent's packages plus only the libraries this machine lacks.
packages=()
for set in "${agents[@]}"; do
  # shellcheck disable=SC2086 # a word list on purpose
  mapfile -t more < <(apt-get -s -qq --no-install-recommends install $set | awk '/^Inst /{print $2}')
  packages+=("${more[@]}")
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
echo "agents: downloading ${packages[*]}"
# As root, apt's _apt sandbox user may not reach this folder: download as ourselves, without the warning.
sandbox=()
[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
(cd "$debs" && apt-get download -qq "${sandbox[@]}" "${packages[@]}")

for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
for binary in usr/sbin/syslog-ng usr/sbin/rsyslogd; do
  [ -x "$root/$binary" ] || { echo "agents: $binary is not in the unpacked packages" >&2; exit 1; }
done

# Every binary and module the tests load must find its libraries here or on the machine.
triplet=$(basename "$(dirname "$(ls -d "$root"/usr/lib/*-linux-gnu*/rsyslog)")")
libs="$root/usr/lib/$triplet:$root/lib/$triplet:$root/usr/lib/syslog-ng"
missing=$(
  for f in "$root/usr/sbin/syslog-ng" "$root/usr/sbin/rsyslogd" \
    "$root"/usr/lib/syslog-ng/3.38/*.so "$root/usr/lib/$triplet"/rsyslog/*.so; do
    LD_LIBRARY_PATH="$libs" ldd "$f" | awk -v f="$f" '/not found/{print f ": " $1}'
  done
)
if [ -n "$missing" ]; then
  echo "agents: libraries still missing after unpacking:" >&2
  echo "$missing" >&2
  exit 1
fi
# The client imports from there (apt leaves it out when the machine has it installed already).
es_version=$(PYTHONPATH="$root/usr/lib/python3/dist-packages" "$python" -c \
  'import elasticsearch; print(".".join(map(str, elasticsearch.__version__)))') || {
  echo "agents: $python cannot import the unpacked Elasticsearch client" >&2
  exit 1
}

dpkg-deb -W --showformat='${Package} ${Version}\n' "$debs"/syslog-ng-core_*.deb >"$ready.tmp"
dpkg-deb -W --showformat='${Package} ${Version}\n' "$debs"/rsyslog_*.deb >>"$ready.tmp"
echo "python3-elasticsearch $es_version" >>"$ready.tmp"
mv "$ready.tmp" "$ready"
echo "agents: ready in $dir ($(tr '\n' ' ' <"$ready"))"
