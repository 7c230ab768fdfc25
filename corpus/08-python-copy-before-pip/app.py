"""Print a small price table for the plans of a hosting offer."""
from tabulate import tabulate

PLANS = [
    ("starter", 1, 5),
    ("team", 4, 18),
    ("scale", 16, 64),
]


def rows():
    for name, cpus, price in PLANS:
        yield name, cpus, price, round(price / cpus, 2)


if __name__ == "__main__":
    print(tabulate(rows(), headers=["plan", "cpus", "usd", "usd/cpu"], tablefmt="github"))
