"""Show where the app was installed, and a small table of its layers (read from YAML)."""
import os

import yaml
from tabulate import tabulate

LAYERS = yaml.safe_load("""
- [base, python:3.11-slim]
- [deps, requirements.txt]
- [app, main.py]
""")

print(f"cwd={os.getcwd()}")
print(tabulate(LAYERS, headers=["layer", "from"], tablefmt="plain"))
