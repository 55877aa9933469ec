"""What every command shares: the operator's error, the store, JSON output."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from service.config import StorageSettings
from service.store import Store
from service.store.embedded import redis_for_command


class CommandError(Exception):
    """A message for the operator; exit status 1."""


@contextlib.contextmanager
def open_store() -> Iterator[Store]:
    """The store that PW_REDIS_URL names, or the embedded Redis of PW_DATA_DIR."""
    storage = StorageSettings.from_env(os.environ)
    if storage.url is not None:
        yield Store.from_url(storage.url, storage.key_prefix)
        return
    with redis_for_command(storage.data_dir) as url:
        yield Store.from_url(url, storage.key_prefix)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))
