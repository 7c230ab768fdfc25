"""Prove a Dockerfile rewrite by building it.

    report = verify(original_text, rewritten_text, Path("ctx"), smoke="python -c 'import app'")
    print(report.verdict, report.summary)
    json.dumps(report.to_dict())
    render_report(report, rich.console.Console())

Modules: engine (connection, labels, cleanup), build (sdk and BuildKit
backends), layers (saved-image analysis, dive's numbers), compare
(config/files/smoke), edits (cache-check edits), report (result types).
"""
from .engine import RUN_LABEL, EngineFault, EngineUnavailable
from .report import VerifyReport, render_report
from .runner import verify

__all__ = ["RUN_LABEL", "EngineFault", "EngineUnavailable", "VerifyReport", "render_report", "verify"]
