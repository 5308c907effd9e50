"""The AI Gateway's credential chain, exercised over and over while something
else changes IAM: every round takes fresh Pod Identity credentials (so the
base role's trust is judged each time), assumes each connector with them and
re-assumes it with its own session (self-assume), and records every refusal."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from awssim.harness import AwsSim, AwsSimError
from e2e.seed import CLUSTER

ROUND_S = 0.1


@dataclass
class Refusal:
    connector: str  # "" when the pod got no credentials
    hop: str
    error: str


@dataclass
class ChainPoller:
    """Started before a change, stopped after it: `rounds` counts the full
    rounds, `refusals` lists what was refused, with the hop."""

    sim: AwsSim
    connectors: list[str]
    cluster: str = CLUSTER
    rounds: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ChainPoller:
        self.sim.settle()
        self.round()  # the chain must work before the change, or nothing is measured
        assert not self.refusals, f"the chain is refused before the change: {self.refusals}"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        # What the change wrote reaches STS a propagation delay later: keep
        # polling until STS sees all of it, then one last round.
        self.sim.settle()
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.round()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.round()
            self._stop.wait(max(0.0, ROUND_S - (time.monotonic() - started)))

    def round(self) -> None:
        try:
            pod = self.sim.pod_credentials(self.cluster, "xpander", "xpander", pod_name="xpander-ai-gateway-0")
        except AwsSimError as err:
            self.refusals.append(Refusal("", "pod -> base", str(err)))
            return
        sts = self.sim.client_for("sts", pod)
        for arn in self.connectors:
            try:
                hop = sts.assume_role(RoleArn=arn, RoleSessionName="ai-gateway")
            except ClientError as err:
                self.refusals.append(Refusal(arn, "base -> connector", str(err)))
                continue
            try:
                self.sim.client_for("sts", hop["Credentials"]).assume_role(RoleArn=arn, RoleSessionName="refresh")
            except ClientError as err:
                self.refusals.append(Refusal(arn, "connector -> itself", str(err)))
        self.rounds += 1
