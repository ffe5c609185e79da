"""Two OS processes needing the access_token at the same moment make exactly one refresh call."""

from __future__ import annotations

import subprocess
import sys

from backend.core.config import REPO_ROOT
from tests.live import scratch_database
from tests.wechat.server import wechat_server


def test_two_processes_refresh_the_token_once(server_url):
    with scratch_database(server_url, demo=False) as url, wechat_server(token_delay_s=0.5) as (base, st):
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.wechat.token_worker", url, base],
                cwd=REPO_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for w in workers:
                assert w.stdout is not None and w.stdout.readline().strip() == "ready"
            for w in workers:  # both start together; the token call takes 0.5 s, so they overlap
                assert w.stdin is not None
                w.stdin.write("go\n")
                w.stdin.flush()
            outputs = [w.communicate(timeout=60)[0].strip() for w in workers]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
        assert [w.returncode for w in workers] == [0, 0]
        assert st.token_calls == 1
        assert outputs[0] == outputs[1] == st.access_token  # both use the one live token
