"""Launch a provider plugin the way the Pulumi engine does, and serve the
engine's callback endpoint for it.

Engine side of the process contract (reference §1.2-1.3):
  * the engine's own gRPC server (pulumirpc.Engine, grpc.health.v1) is up
    before the plugin starts, because the plugin may log during start-up;
  * argv is ``[binary, flags..., <engine-address>]``;
  * the first stdout line is the port; everything after it is just debug output;
  * the plugin runs in its own process group, and shutdown is SIGINT to that
    group, 5 s of grace, then SIGKILL.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2_grpc

# rpcutil/serve.go raises both limits to 400 MiB on every engine channel.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024
GRPC_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]

STARTUP_TIMEOUT = 10.0  # the engine's pluginRPCConnectionTimeout
SHUTDOWN_GRACE = 5.0  # cmdutil/child_unix.go

# Passed as engine_address to launch in the normal way (address as the last argument).
FAKE_ENGINE = object()


class ProviderStartError(RuntimeError):
    pass


class FakeEngine(engine_pb2_grpc.EngineServicer):
    """The engine's callback service: records every Log call."""

    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []
        self._root_urn = ""
        self._changed = threading.Condition()

    def Log(self, request, context):
        with self._changed:
            self.logs.append(request)
            self._changed.notify_all()
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self._root_urn)

    def SetRootResource(self, request, context):
        self._root_urn = request.urn
        return engine_pb2.SetRootResourceResponse()

    def wait_for_log(self, predicate, timeout: float = 30.0) -> engine_pb2.LogRequest | None:
        """The first log entry matching ``predicate``, waiting for it to arrive:
        providers may log from a background task after answering the RPC.
        Returns as soon as it arrives; the timeout only bounds a failing wait,
        so it is generous for a busy machine."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                match = next((entry for entry in self.logs if predicate(entry)), None)
                remaining = deadline - time.monotonic()
                if match is not None or remaining <= 0:
                    return match
                self._changed.wait(remaining)


class EngineServer:
    """A gRPC server on 127.0.0.1:<random> hosting FakeEngine (and health, if installed)."""

    def __init__(self) -> None:
        self.service = FakeEngine()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self.service, self._server)
        _add_health_service(self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)


def _add_health_service(server: grpc.Server) -> None:
    try:
        from grpc_health.v1 import health, health_pb2_grpc
    except ImportError:  # grpcio-health-checking is optional; the engine serves it
        return
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)


def clean_env(home: str | os.PathLike, **extra: str) -> dict[str, str]:
    """A minimal environment: no AWS settings leak in from the developer's
    shell or ~/.aws, and the SDK never probes EC2 instance metadata."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


class ProviderProcess:
    """One running plugin process plus the fake engine it calls back."""

    def __init__(
        self,
        binary: str | os.PathLike,
        env: dict[str, str] | None = None,
        args: list[str] | tuple[str, ...] = (),
        engine_address=FAKE_ENGINE,
        startup_timeout: float = STARTUP_TIMEOUT,
        cwd: str | os.PathLike | None = None,
    ) -> None:
        self.binary = Path(binary)
        self.engine = EngineServer()
        if engine_address is FAKE_ENGINE:
            engine_address = self.engine.address
        self.argv = [str(self.binary), *args] + ([engine_address] if engine_address else [])
        self._stdout_lines: queue.Queue[bytes] = queue.Queue()
        self._stdout_rest = bytearray()
        self._stderr = bytearray()
        self._output_lock = threading.Lock()
        self.channel: grpc.Channel | None = None

        started = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                start_new_session=True,  # its own process group, as the engine does
            )
        except BaseException:
            self.engine.stop()
            raise
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

        try:
            self.first_line = self._first_stdout_line(startup_timeout)
            self.startup_seconds = time.monotonic() - started
            self.port = _parse_port(self.first_line)
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=GRPC_OPTIONS)
            grpc.channel_ready_future(self.channel).result(timeout=startup_timeout)
        except BaseException as err:
            self.stop()
            if isinstance(err, (ProviderStartError, grpc.FutureTimeoutError)):
                raise ProviderStartError(f"{err}\n--- provider stderr ---\n{self.stderr}") from None
            raise
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    # -- output -------------------------------------------------------------

    @property
    def stderr(self) -> str:
        with self._output_lock:
            return self._stderr.decode("utf-8", "replace")

    @property
    def stdout_after_port(self) -> str:
        with self._output_lock:
            return self._stdout_rest.decode("utf-8", "replace")

    @property
    def logs(self) -> list[engine_pb2.LogRequest]:
        return list(self.engine.service.logs)

    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        self._stdout_lines.put(stream.readline())
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self._output_lock:
                self._stdout_rest.extend(chunk)

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self._output_lock:
                self._stderr.extend(chunk)

    def _first_stdout_line(self, timeout: float) -> bytes:
        try:
            line = self._stdout_lines.get(timeout=timeout)
        except queue.Empty:
            raise ProviderStartError(f"{self.binary.name} printed no port within {timeout} s") from None
        if not line:
            code = self.proc.wait(timeout=SHUTDOWN_GRACE)
            raise ProviderStartError(f"{self.binary.name} exited with {code} before printing its port")
        return line

    # -- lifetime -----------------------------------------------------------

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT, grace: float = SHUTDOWN_GRACE) -> int:
        """Signal the process group like the engine, SIGKILL after ``grace`` s.
        Returns the exit code (negative: killed by that signal)."""
        if self.running():
            _signal_group(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=grace)
        if self.channel is not None:
            self.channel.close()
        self.engine.stop()
        return self.proc.returncode

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _parse_port(line: bytes) -> int:
    text = line.decode("ascii", "replace").strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ProviderStartError(f"first stdout line is not a port: {line!r}")
    return int(text)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
