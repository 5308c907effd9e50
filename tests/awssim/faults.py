"""Injected faults: per-API throttling (token buckets), random 5xx, latency and
dropped connections.  Every knob is range-checked so a test cannot configure a
simulator that hangs or never answers; `limit` caps the number of faults."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

SERVICES = ("iam", "sts", "eks")
MAX_LATENCY_MS = 10_000


@dataclass
class FaultDecision:
    latency_s: float = 0.0
    # None, "throttle", "error" or "drop".
    fault: str | None = None
    # For "error": which 5xx to answer, picked by the same seeded generator.
    variant: int = 0


class _Bucket:
    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _ratio(config: dict, key: str) -> float:
    value = float(config.get(key, 0))
    if not 0 <= value <= 1:
        raise ValueError(f"{key} must be within [0, 1]")
    return value


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._config: dict = {}
            self._buckets: dict[str, _Bucket] = {}
            self._throttle: dict[str, tuple[float, int]] = {}
            self._error_ratio = self._drop_ratio = 0.0
            self._latency = (0, 0)
            self._services: set[str] = set(SERVICES)
            self._limit: int | None = None
            self._injected = 0
            self._random = random.Random()
            self._deny: list[dict] = []

    def configure(self, config: dict) -> None:
        """Replace the fault configuration; raise ValueError on anything out of range."""
        unknown = set(config) - {"throttle", "error_ratio", "latency_ms", "drop_ratio", "seed", "services", "limit", "deny"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        throttle = {}
        for key, bucket in (config.get("throttle") or {}).items():
            service = key.split(":", 1)[0]
            if service not in SERVICES:
                raise ValueError(f"throttle key {key!r} must be a service or service:Action of {SERVICES}")
            rate, burst = float(bucket.get("rate", 0)), int(bucket.get("burst", 1))
            if not 0 < rate <= 10_000 or not 1 <= burst <= 10_000:
                raise ValueError("throttle rate must be within (0, 10000] and burst within [1, 10000]")
            throttle[key] = (rate, burst)
        error_ratio, drop_ratio = _ratio(config, "error_ratio"), _ratio(config, "drop_ratio")
        if error_ratio + drop_ratio > 1:
            raise ValueError("error_ratio + drop_ratio must not exceed 1")
        latency = config.get("latency_ms") or [0, 0]
        if len(latency) != 2 or not 0 <= latency[0] <= latency[1] <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be [min, max] with 0 <= min <= max <= {MAX_LATENCY_MS}")
        services = set(config.get("services") or SERVICES)
        if not services <= set(SERVICES):
            raise ValueError(f"services must be a subset of {SERVICES}")
        deny = []
        for rule in config.get("deny") or []:
            if not isinstance(rule, dict) or not rule.get("action"):
                raise ValueError("each deny rule needs an action (and optional params, times)")
            times = rule.get("times")
            if times is not None and int(times) < 1:
                raise ValueError("deny times must be >= 1")
            deny.append({"action": rule["action"], "params": dict(rule.get("params") or {}), "left": times})
        limit = config.get("limit")
        if limit is not None and int(limit) < 0:
            raise ValueError("limit must be >= 0")
        with self._lock:
            self._config = config
            self._throttle = throttle
            self._buckets = {k: _Bucket(rate, burst) for k, (rate, burst) in throttle.items()}
            self._error_ratio, self._drop_ratio = error_ratio, drop_ratio
            self._latency = (int(latency[0]), int(latency[1]))
            self._services = services
            self._limit = None if limit is None else int(limit)
            self._injected = 0
            self._random = random.Random(config.get("seed"))
            self._deny = deny

    def denied(self, action: str | None, params: dict) -> bool:
        """A deny rule matching this call: the caller lacks permission (AccessDenied),
        which no client retries, so a test can fail one exact step."""
        with self._lock:
            for rule in self._deny:
                matches = rule["action"] == action and all(params.get(k) == v for k, v in rule["params"].items())
                if matches and rule["left"] != 0:
                    if rule["left"] is not None:
                        rule["left"] -= 1
                    self._injected += 1
                    return True
            return False

    def describe(self) -> dict:
        with self._lock:
            return {**self._config, "injected": self._injected}

    def decide(self, service: str, action: str | None) -> FaultDecision:
        with self._lock:
            if service not in self._services:
                return FaultDecision()
            decision = FaultDecision(latency_s=self._random.uniform(*self._latency) / 1000)
            if self._limit is not None and self._injected >= self._limit:
                return decision
            bucket = self._buckets.get(f"{service}:{action}") or self._buckets.get(service)
            roll = self._random.random()
            if roll < self._drop_ratio:
                decision.fault = "drop"
            elif bucket is not None and not bucket.take():
                decision.fault = "throttle"
            elif roll < self._drop_ratio + self._error_ratio:
                decision.fault = "error"
                decision.variant = self._random.randrange(2)
            if decision.fault:
                self._injected += 1
            return decision
