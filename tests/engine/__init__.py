"""A stand-in for the Pulumi engine, for driving pulumi-resource-xpander in tests.

Talks to the provider only through the official generated stubs shipped in
the `pulumi` package (pulumi.runtime.proto).
"""

from .display import format_preview
from .driver import (
    CheckFailed,
    Engine,
    EngineError,
    ProgramContext,
    ResourceHandle,
    ResourceOptions,
    Stack,
    StepFailed,
)
from .errors import RpcFailure, decode_error
from .events import DiffSummary, Event, PropertyChange
from .process import ProviderProcess, ProviderStartError, clean_env
from .state import ResourceState
from .values import UNKNOWN, ResourceRef, Secret, from_struct, to_struct

__all__ = [
    "UNKNOWN",
    "CheckFailed",
    "DiffSummary",
    "Engine",
    "EngineError",
    "Event",
    "ProgramContext",
    "PropertyChange",
    "ProviderProcess",
    "ProviderStartError",
    "ResourceHandle",
    "ResourceOptions",
    "ResourceRef",
    "ResourceState",
    "RpcFailure",
    "Secret",
    "Stack",
    "StepFailed",
    "clean_env",
    "decode_error",
    "format_preview",
    "from_struct",
    "to_struct",
]
