"""Hatch build hook: an editable install must not copy the task pack.

In a regular wheel the task pack is copied into the package (see force-include in
pyproject.toml). An editable install should keep reading the live ``tasks/`` folder of
the checkout, so there only the ``.pth`` file that registers the pack with lm-eval is
force-included.
"""

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            build_data["force_include_editable"] = {
                "src/shadow_suite_lm_eval.pth": "shadow_suite_lm_eval.pth"
            }
