"""Report sizes in human units."""
