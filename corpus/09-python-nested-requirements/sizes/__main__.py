import sys

import humanize

SAMPLES = {"layer": 83_886_080, "context": 1_536, "cache": 3_221_225_472}


def main(argv: list[str]) -> int:
    for name, size in sorted(SAMPLES.items(), key=lambda kv: kv[1]):
        print(f"{name}: {humanize.naturalsize(size, binary=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
