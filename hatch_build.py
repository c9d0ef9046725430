"""Hatch build hook: an editable install gets the ``.pth`` file too.

A regular wheel force-includes ``shadow_suite_lm_eval.pth`` (pyproject.toml), the line that
registers the task pack with lm-eval at start-up; hatch applies ``force-include`` to regular
wheels only, so an editable install asks for it here. The pack's YAML needs nothing: it lives
inside the package (``shadow_suite/taskpack/tasks``), which an editable install reads in place.
"""

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            build_data["force_include_editable"] = {
                "src/shadow_suite_lm_eval.pth": "shadow_suite_lm_eval.pth"
            }
