from app import rows


def test_price_per_cpu():
    assert list(rows())[0] == ("starter", 1, 5, 5.0)
