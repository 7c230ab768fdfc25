package demo;

import java.util.List;

/** An invoice is a list of lines; amounts are kept in cents to avoid rounding drift. */
public record Invoice(List<Line> lines) {
    public record Line(String item, long unitCents, int quantity) {
        long totalCents() {
            return unitCents * quantity;
        }
    }

    public long subtotalCents() {
        return lines.stream().mapToLong(Line::totalCents).sum();
    }

    public long vatCents(int percent) {
        return Math.round(subtotalCents() * percent / 100.0);
    }
}
