"""Start and drive an awssim server from tests.

    with AwsSim() as sim:
        iam = sim.boto3_client("iam")
        ...

The server runs as a subprocess (`python -m awssim`) on a free 127.0.0.1 port.
Clients made here do not retry (total_max_attempts=1) unless given another config,
so a test sees exactly what the simulator answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

READY_PREFIX = "AWSSIM_READY "
START_TIMEOUT_S = 15
REGION = "us-east-1"
# The default account, where the administrator key `testing` acts.
ACCOUNT = "123456789012"
# The default account administrator's access key (and secret): allowed everything, for test set-up.
ADMIN_KEY = "testing"
# How often settle() asks whether IAM changes have propagated.
SETTLE_POLL_S = 0.05
_TESTS_DIR = Path(__file__).resolve().parent.parent


class AwsSimError(RuntimeError):
    """A control-API call failed; `status` and `code` come from the simulator."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class AwsSim:
    def __init__(self, propagation_delay: float = 2.0, python: str = sys.executable):
        self.propagation_delay = propagation_delay
        self.python = python
        self.url: str | None = None
        self._proc: subprocess.Popen | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "AwsSim":
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_TESTS_DIR), env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [self.python, "-m", "awssim", "--port", "0", "--propagation-delay", str(self.propagation_delay)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if not line or not line[0].startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"awssim did not become ready within {START_TIMEOUT_S}s (got {line!r})")
        self.url = line[0][len(READY_PREFIX):].strip()
        return self

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._proc = None

    def __enter__(self) -> "AwsSim":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- clients ------------------------------------------------------------------------

    def provider_env(self, credentials: dict | None = None) -> dict[str, str]:
        """Environment for a process using the AWS SDK's default chain (e.g. the provider):
        the administrator key, or the given `credentials` — from principal(), STS
        (`Credentials`) or pod_credentials()."""
        env = {
            "AWS_ACCESS_KEY_ID": ADMIN_KEY,
            "AWS_SECRET_ACCESS_KEY": ADMIN_KEY,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": self.url,
        }
        if credentials is not None:
            env["AWS_ACCESS_KEY_ID"] = credentials["AccessKeyId"]
            env["AWS_SECRET_ACCESS_KEY"] = credentials["SecretAccessKey"]
            token = credentials.get("SessionToken") or credentials.get("Token")
            if token:
                env["AWS_SESSION_TOKEN"] = token
        return env

    @staticmethod
    def admin_credentials(account: str = ACCOUNT) -> dict:
        """The administrator of `account` (each account has its own IAM, STS and EKS)."""
        key = ADMIN_KEY if account == ACCOUNT else f"{ADMIN_KEY}-{account}"
        return {"AccessKeyId": key, "SecretAccessKey": key}

    def boto3_client(self, service: str, config: Config | None = None, *, account: str = ACCOUNT, **creds: str):
        """A boto3 client for `service`; credentials default to the admin of `account`."""
        admin = self.admin_credentials(account)
        creds.setdefault("aws_access_key_id", admin["AccessKeyId"])
        creds.setdefault("aws_secret_access_key", admin["SecretAccessKey"])
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            config=config or Config(retries={"total_max_attempts": 1, "mode": "standard"}),
            **creds,
        )

    def client_for(self, service: str, credentials: dict, config: Config | None = None):
        """A client using credentials from principal(), STS (`Credentials`) or pod_credentials()."""
        creds = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"]}
        token = credentials.get("SessionToken") or credentials.get("Token")
        if token:
            creds["aws_session_token"] = token
        return self.boto3_client(service, config=config, **creds)

    # --- control API --------------------------------------------------------------------

    def _control(self, method: str, route: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_awssim/{route}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            payload = json.loads(err.read() or b"{}")
            raise AwsSimError(err.code, payload.get("error", ""), payload.get("message", "")) from None

    def reset(self) -> None:
        self._control("POST", "reset")

    def set_config(self, **config) -> dict:
        return self._control("POST", "config", config)

    def config(self) -> dict:
        return self._control("GET", "config")

    def faults(self) -> dict:
        """The active fault settings, plus `injected`: how many faults were injected so far."""
        return self._control("GET", "faults")

    def set_faults(self, **faults) -> dict:
        return self._control("POST", "faults", faults)

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def requests(self, since: int = 0) -> list[dict]:
        return self._control("GET", f"requests?since={since}")

    def clear_requests(self) -> None:
        self._control("DELETE", "requests")

    def sessions(self) -> list[dict]:
        """STS sessions issued so far: ARN, role, tags, transitive keys, chained (no secrets)."""
        return self._control("GET", "sessions")

    def unsettled(self) -> int:
        """How many role trust/permission changes STS does not see yet."""
        return self._control("GET", "propagation")["unsettled"]

    def settle(self, timeout: float = 130.0) -> None:
        """Return once STS sees every role change made so far (IAM's eventual consistency)."""
        deadline = time.monotonic() + timeout
        while self.unsettled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"IAM changes did not propagate within {timeout}s")
            time.sleep(SETTLE_POLL_S)

    def pod_credentials(
        self, cluster_name: str, namespace: str, service_account: str, pod_name: str | None = None, *, account: str = ACCOUNT
    ) -> dict:
        body = {"clusterName": cluster_name, "namespace": namespace, "serviceAccount": service_account, "account": account}
        if pod_name is not None:
            body["podName"] = pod_name
        return self._control("POST", "pod-identity/credentials", body)

    def principal(
        self,
        name: str,
        policy: dict | str | None = None,
        boundary: dict | str | None = None,
        *,
        path: str = "/",
        policy_arns: list[str] | None = None,
        tags: dict[str, str] | None = None,
        account: str = ACCOUNT,
    ) -> dict:
        """Create IAM user `name` in `account` with `policy` as its inline identity policy, an
        optional permissions `boundary` (a document, or a managed policy's ARN), attached
        `policy_arns` and `tags`, and an access key.  Returns {UserName, Arn, UserId,
        AccessKeyId, SecretAccessKey}: pass it to client_for() or provider_env()."""
        body: dict = {"name": name, "path": path, "account": account}
        for key, value in (("policy", policy), ("boundary", boundary), ("policyArns", policy_arns), ("tags", tags)):
            if value is not None:
                body[key] = value
        return self._control("POST", "principals", body)

    def authorize(self, credentials: dict, action: str, resource: str, context: dict[str, str | list[str]] | None = None) -> dict:
        """Whether the holder of `credentials` (as for client_for()) would be allowed `action` on
        `resource` with condition keys `context`: {allowed, message}, message as AccessDenied words it."""
        body: dict = {"accessKeyId": credentials["AccessKeyId"], "action": action, "resource": resource, "context": context or {}}
        token = credentials.get("SessionToken") or credentials.get("Token")
        if token:
            body["sessionToken"] = token
        return self._control("POST", "authorize", body)
