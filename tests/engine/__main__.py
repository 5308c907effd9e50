"""Command line for demos: ``python -m engine preview|up|refresh|destroy``.

    PYTHONPATH=tests python -m engine up --program demo.py --state demo-state.json \\
        --config region=us-east-1 --secret-config assumeRole='{"roleArn": "...", "externalId": "..."}'

The program file defines ``program(ctx)``. The provider inherits this
process's environment (point AWS_ENDPOINT_URL at the simulator for demos).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path

from . import Engine, EngineError, ProviderProcess, Secret, Stack, format_preview

DEFAULT_BINARY = Path(__file__).resolve().parents[2] / "target" / "debug" / "pulumi-resource-xpander"


def _config_value(text: str):
    """`pulumi config set` semantics: a string, unless it is JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _settings(pairs: list[str], secret: bool) -> dict:
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"config must be key=value, got {pair!r}")
        config[key.removeprefix("xpander:")] = Secret(_config_value(value)) if secret else _config_value(value)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["preview", "up", "refresh", "destroy"])
    parser.add_argument("--program", type=Path, help="Python file defining program(ctx) (preview/up)")
    parser.add_argument("--state", type=Path, required=True, help="checkpoint file, created if missing")
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--secret-config", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    if args.command in ("preview", "up") and args.program is None:
        parser.error(f"{args.command} needs --program")

    config = {**_settings(args.config, secret=False), **_settings(args.secret_config, secret=True)}
    with ProviderProcess(args.binary.resolve()) as proc:
        engine = Engine(proc, stack=args.stack)
        stack = Stack.load(engine, args.state) if args.state.exists() else Stack(engine)
        try:
            engine.boot(config)
            if args.command in ("preview", "up"):
                program = runpy.run_path(str(args.program))["program"]
                events = stack.up(program, preview=args.command == "preview")
            else:
                events = getattr(stack, args.command)()
        except EngineError as err:
            print(format_preview(stack.events), end="")
            print(f"error: {err}", file=sys.stderr)
            return 1
        finally:
            if args.command != "preview":
                stack.save(args.state)
        print(format_preview(events), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
