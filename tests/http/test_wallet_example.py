"""The README's runnable wallet example signs in and out against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.harness import ServerProcess

EXAMPLE = Path(__file__).parents[2] / "examples" / "wallet_sign_in.py"


@pytest.mark.parametrize("chain", ["evm", "solana"])
def test_wallet_example_signs_in_with_a_throwaway_key(server: ServerProcess, chain: str) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), server.base_url, "--chain", chain],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    account = "Ethereum" if chain == "evm" else "Solana"
    assert f"wants you to sign in with your {account} account:" in run.stdout
    assert f"URI: {server.base_url}\nVersion: 1\n" in run.stdout
    assert "(provider: wallet)" in run.stdout
    assert run.stdout.rstrip().endswith("signed out")
