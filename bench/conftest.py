import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_terminal_summary(terminalreporter):
    try:
        from bench.test_static import pytest_terminal_summary_lines
    except ImportError:
        return
    lines = pytest_terminal_summary_lines()
    if lines:
        terminalreporter.section("ratios (same run)")
        for line in lines:
            terminalreporter.write_line(line)
