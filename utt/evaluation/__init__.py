"""The UTT evaluation: every model of the paper's comparison, trained, scored, reported."""

from utt.evaluation.config import FULL, QUICK, EvalConfig, preset
from utt.evaluation.plots import write_plots
from utt.evaluation.report import markdown, write_json, write_markdown
from utt.evaluation.runner import NMSE_DEFINITION, run_evaluation

__all__ = [
    "FULL",
    "NMSE_DEFINITION",
    "QUICK",
    "EvalConfig",
    "markdown",
    "preset",
    "run_evaluation",
    "write_json",
    "write_markdown",
    "write_plots",
]
