"""A small Flask service that serves the price table of a hosting offer.

`python app.py` prints the page /plans renders (through Flask's test client), which is what the
corpus smoke test checks; `flask --app app run` serves it.
"""
from flask import Flask, Response
from tabulate import tabulate

PLANS = [
    ("starter", 1, 5),
    ("team", 4, 18),
    ("scale", 16, 64),
]

app = Flask(__name__)


def rows():
    for name, cpus, price in PLANS:
        yield name, cpus, price, round(price / cpus, 2)


@app.get("/plans")
def plans() -> Response:
    table = tabulate(rows(), headers=["plan", "cpus", "usd", "usd/cpu"], tablefmt="github")
    return Response(table + "\n", mimetype="text/plain")


if __name__ == "__main__":
    print(app.test_client().get("/plans").get_data(as_text=True), end="")
