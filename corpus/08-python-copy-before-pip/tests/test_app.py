from app import rows


def test_price_per_cpu():
    assert list(rows())[0] == ("starter", 1, 5, 5.0)


def test_plans_page():
    from app import app

    assert b"| starter |" in app.test_client().get("/plans").data
