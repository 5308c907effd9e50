"""The process contract of `python -m awssim` and the harness around it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from awssim.harness import START_TIMEOUT_S, AwsSim

TESTS_DIR = Path(__file__).resolve().parents[1]


def test_ready_line_port_and_clean_exit_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "awssim", "--port", "0", "--propagation-delay", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        # The harness's own start-up limit guards against a hang; how fast it
        # starts is not this test's business (a busy machine stretches it).
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        assert line, f"no ready line within {START_TIMEOUT_S} s"
        assert re.fullmatch(r"AWSSIM_READY http://127\.0\.0\.1:\d+\n", line[0])
        port = int(line[0].rsplit(":", 1)[1])
        assert port > 0
        # Ready means listening: the first request after the line is answered, no retry.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_awssim/config", timeout=30) as resp:
            assert json.loads(resp.read())["propagation_delay"] == 0.5
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out == ""  # exactly one line on stdout


def test_harness_lifecycle_and_provider_env():
    with AwsSim(propagation_delay=0.25) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        assert sim.config()["propagation_delay"] == 0.25
        env = sim.provider_env()
        assert env == {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": sim.url,
        }
        assert sim.boto3_client("sts").get_caller_identity()["Account"] == "123456789012"
        proc = sim._proc
    assert proc.returncode == 0
