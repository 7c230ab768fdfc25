import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_terminal_summary(terminalreporter):
    try:
        from bench.test_static import pytest_terminal_summary_lines
    except ImportError:
        return
    lines = pytest_terminal_summary_lines()
    try:
        from bench.test_scaling import scaling_lines
        lines += scaling_lines()
    except ImportError:
        pass
    if lines:
        terminalreporter.section("dockopt bench summary (same run)")
        for line in lines:
            terminalreporter.write_line(line)
