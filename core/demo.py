"""The frame of ``manage.py seed_demo``: every app brings its own demo data.

An app takes part with a ``demo`` module that has ``seed(ctx)`` and, if it has something to tell
the person who ran the command, ``summary(ctx)``. The frame runs every part's ``seed`` in
INSTALLED_APPS order, so a part may use what the apps listed before it left in ``ctx.shared``
(accounts leaves the demo people there), then every part's ``summary``. Core names no app: it
finds the parts by their module name. Each part must be safe to run again: a second run of
seed_demo changes nothing.
"""

from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.core.management.base import OutputWrapper
from django.core.management.color import Style
from django.utils.module_loading import module_has_submodule

PART_MODULE = "demo"


@dataclass
class DemoContext:
    """What seed_demo hands to each app's part."""

    stdout: OutputWrapper
    style: Style
    # --size N: this many more rows for benchmarks (member organisations, applications...).
    size: int = 0
    # --quiet-logins: do not print the demo people's passwords and recovery codes.
    quiet_logins: bool = False
    # What earlier parts leave for later ones, by a key the leaving part documents.
    shared: dict[str, Any] = field(default_factory=dict)


def demo_parts() -> list[ModuleType]:
    """Each installed app's ``demo`` module that has a ``seed``, in INSTALLED_APPS order."""
    parts = []
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, PART_MODULE):
            continue
        module = import_module(f"{config.name}.{PART_MODULE}")
        if module.__name__ == __name__ or not callable(getattr(module, "seed", None)):
            continue  # this frame, or an unrelated module that happens to be called demo
        parts.append(module)
    return parts


def seed_demo(ctx: DemoContext) -> list[ModuleType]:
    """Run every app's part, then every part's summary; the parts that ran."""
    parts = demo_parts()
    for part in parts:
        part.seed(ctx)
    for part in parts:
        summary = getattr(part, "summary", None)
        if summary is not None:
            summary(ctx)
    return parts
