"""The portal-widgets command: serve, migrate, site, token, hotline, poll, demo, backup,
restore."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.cli import demo, hotline, migrate, moving, poll, site, token
from service.cli.common import CommandError
from service.errors import DomainError
from service.runtime import serve
from service.runtime.config import ConfigError
from service.store import StorageUnavailable
from service.store.embedded import EmbeddedError
from service.store.migrations import DataTooNew, DataTooOld


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (one module per command group)."""
    parser = argparse.ArgumentParser(prog="portal-widgets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (serve, migrate, site, token, hotline, poll, demo, moving):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, EmbeddedError, DataTooNew, DataTooOld) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    except StorageUnavailable as exc:
        print(f"error: redis unavailable ({exc.operation})", file=sys.stderr)
        return 1
