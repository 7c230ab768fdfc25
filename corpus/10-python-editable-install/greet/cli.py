import sys

from greet import __version__


def main() -> int:
    names = sys.argv[1:] or ["stranger"]
    for name in names:
        print(f"hello, {name} (greet {__version__})")
    return 0
