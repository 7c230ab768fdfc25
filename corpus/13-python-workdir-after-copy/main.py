"""Show where the app was installed, and a small table of its layers."""
import os

from tabulate import tabulate

LAYERS = [("base", "python:3.11-slim"), ("deps", "requirements.txt"), ("app", "main.py")]

print(f"cwd={os.getcwd()}")
print(tabulate(LAYERS, headers=["layer", "from"], tablefmt="plain"))
