"""What every command shares: the operator's error, the store, JSON output."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from service.runtime.config import StorageSettings
from service.store import Store, migrations
from service.store.embedded import redis_for_command


class CommandError(Exception):
    """A message for the operator; exit status 1."""


@contextlib.contextmanager
def open_store(*, check_layout: bool = True) -> Iterator[Store]:
    """The store that PW_REDIS_URL names, or the embedded Redis of PW_DATA_DIR. Data of
    another layout than this release's is refused (migrations.DataTooNew/DataTooOld) unless
    `check_layout` is off; an empty deployment gets this release's layout written."""
    storage = StorageSettings.from_env(os.environ)
    if storage.url is not None:
        store = Store.from_url(storage.url, storage.key_prefix)
        if check_layout:
            migrations.check_layout(store)
        yield store
        return
    with redis_for_command(storage.data_dir) as url:
        store = Store.from_url(url, storage.key_prefix)
        if check_layout:
            migrations.check_layout(store)
        yield store


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))
