# Sourced by the set-up scripts: run a step with its output kept aside, shown only when it fails.
# The package installer's routine noise (its version check, "WARNING: Location 'file:///…' is
# ignored" for a local package index this machine's pip configuration lists, setuptools'
# deprecation notices while building) never reaches a newcomer's terminal.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_PYTHON_VERSION_WARNING=1 PIP_ROOT_USER_ACTION=ignore

# quietly "what it does" command args...   (exits with the command's status after showing its log)
quietly() {
  local what="$1"; shift
  local log status=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    echo "fablabctl: $what failed (exit $status):" >&2
    grep -v -E "^WARNING: Location .* is ignored|^WARNING: You are using pip version" "$log" >&2 || true
  fi
  rm -f "$log"
  return "$status"
}
