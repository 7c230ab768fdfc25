"""Storage quota per team: used, limit and what is left, as a table."""
import humanize
from tabulate import tabulate

TEAMS = [
    ("search", 612 * 2**30, 1024 * 2**30),
    ("billing", 48 * 2**30, 64 * 2**30),
    ("ml", 3 * 2**40, 4 * 2**40),
]

rows = [(team, humanize.naturalsize(used, binary=True), humanize.naturalsize(limit, binary=True),
         humanize.naturalsize(limit - used, binary=True)) for team, used, limit in TEAMS]
print(tabulate(rows, headers=["team", "used", "limit", "left"], tablefmt="simple"))
