# Shared by scripts/serve and scripts/test: a project venv, reinstalled when pyproject changes.
ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  local stamp=".venv/.installed-$(cat pyproject.toml sdk/python/pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)-${extras//[^a-z]/}"
  if [ ! -f "$stamp" ]; then
    if [ "$extras" = "." ]; then
      .venv/bin/python -m pip install -q -e .
    else
      .venv/bin/python -m pip install -q -e ".[test]" ${SDK_PY:+-e "$SDK_PY"}
    fi
    touch "$stamp"
  fi
}
