# shellcheck shell=bash
# Steps shared by e2e/toolchain.sh and its build scripts (e2e/toolchain/<part>.sh), which source this file. It is
# not a part: e2e/toolchain.sh never runs it as one.
#   require_pin WRAPPER MODULE KEY   the wrapper module's go.mod requires MODULE at the version versions.env pins
#   scratch_module WRAPPER           a throwaway copy of a wrapper module to build in: the checkout stays clean
#   module_source MODULE[@VERSION] [DIR]   the folder of a downloaded module, verified by the checksum database or,
#                                    run in DIR (a scratch wrapper module), by its go.sum at the version it requires
#   partial_path FINAL / finish_install FINAL   build into FINAL.partial, then rename it into place, so an
#                                    interrupted build never looks finished
#   run_all FUNCTION NAME...         FUNCTION NAME for every NAME at the same time, each output line prefixed with
#                                    [NAME]; prints each one's time; fails naming every one that failed
if ! (return 0 2>/dev/null); then
  echo "${BASH_SOURCE[0]} is a library of e2e/toolchain.sh: source it, do not run it" >&2
  exit 2
fi

toolchain_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
modules_dir="$toolchain_dir/modules"
# Printed before each job's time ("toolchain: " for the parts of e2e/toolchain.sh).
job_label=""

# One scratch folder per script, removed when it exits. Module cache copies are read-only, hence the chmod.
toolchain_work="$(mktemp -d "${TMPDIR:-/tmp}/kserve-platform-toolchain.XXXXXX")"
trap 'chmod -R u+w "$toolchain_work" 2>/dev/null; rm -rf "$toolchain_work"' EXIT

# The jobs run_all started (each one its own process group) and the signal that stops them all: an interrupted build
# leaves no `go build` behind (and no finished-looking folder, see partial_path).
running_jobs=()
stop_jobs() {
  local signal="$1" pid
  trap - "$signal"
  for pid in "${running_jobs[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit $((128 + $(kill -l "$signal")))
}
trap 'stop_jobs TERM' TERM
trap 'stop_jobs INT' INT
trap 'stop_jobs HUP' HUP

require_pin() {
  local wrapper="$1" module="$2" key="$3"
  local pinned="${!key:-}" required
  if [ -z "$pinned" ]; then
    echo "e2e/versions.env pins no $key (run through e2e/toolchain.sh, which reads it)" >&2
    exit 1
  fi
  # The version on MODULE's require line (in or out of a `require (` block); replace, tool and comment text ignored.
  required="$(awk -v module="$module" '
    { sub(/\/\/.*/, "") }
    block == "" && $2 == "(" { block = $1; next }
    block != "" && $1 == ")" { block = ""; next }
    { verb = block; first = 1 }
    block == "" { verb = $1; first = 2 }
    verb == "require" && $first == module { print $(first + 1); exit }
  ' "$modules_dir/$wrapper/go.mod")"
  if [ "$required" != "$pinned" ]; then
    echo "e2e/versions.env pins $key=$pinned but e2e/toolchain/modules/$wrapper/go.mod requires $module" \
      "${required:-at no version}; change both together (then \`go mod tidy\` in e2e/toolchain/modules/$wrapper)" >&2
    exit 1
  fi
}

scratch_module() {
  local wrapper="$1" copy
  copy="$(mktemp -d "$toolchain_work/$wrapper.XXXXXX")"
  cp "$modules_dir/$wrapper"/go.mod "$modules_dir/$wrapper"/go.sum "$copy/"
  if compgen -G "$modules_dir/$wrapper/*.go" >/dev/null; then cp "$modules_dir/$wrapper"/*.go "$copy/"; fi
  echo "$copy"
}

module_source() {
  local target="$1" where="${2:-$toolchain_work}"
  (cd "$where" && go mod download -json "$target") | python3 -c '
import json, sys
text = sys.stdin.read()
info = json.loads(text) if text.strip() else {}
if not info.get("Dir"):
    sys.exit("go mod download %s: %s" % (sys.argv[1], info.get("Error") or "no folder"))
print(info["Dir"])
' "$target"
}

partial_path() {
  local final="$1"
  mkdir -p "$(dirname "$final")"
  rm -rf "$final.partial"
  echo "$final.partial"
}

finish_install() {
  local final="$1"
  rm -rf "$final"
  mv -T "$final.partial" "$final"
}

run_all() {
  local function="$1" name pid index status failed=()
  shift
  local names=("$@") pids=()
  for name in "${names[@]}"; do
    # Job control only while starting the job: it gets a process group of its own (stop_jobs kills the whole group)
    # and the shell prints no job notices.
    set -m
    run_job "$function" "$name" </dev/null &
    pid=$!
    set +m
    pids+=("$pid")
    running_jobs+=("$pid")
  done
  for index in "${!names[@]}"; do
    if wait "${pids[$index]}"; then status=0; else status=$?; fi
    [ "$status" -eq 0 ] || failed+=("${names[$index]}")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "${job_label}failed: ${failed[*]}" >&2
  fi
  running_jobs=()
  [ ${#failed[@]} -eq 0 ]
}

# One job of run_all, in a subshell: the job's own errors stop it (set -e), its status is reported either way.
run_job() {
  local function="$1" name="$2" start=$SECONDS status
  set +e
  (
    set -e
    "$function" "$name"
  ) 2>&1 | sed -u "s/^/[$name] /"
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    echo "${job_label}$name ready in $((SECONDS - start)) s"
  else
    echo "${job_label}$name FAILED (exit status $status) after $((SECONDS - start)) s" >&2
  fi
  exit "$status"
}
