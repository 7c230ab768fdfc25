package demo;

import java.util.List;

/** Print a small invoice: lines, subtotal, VAT and total, all in integer cents. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        Invoice invoice = new Invoice(List.of(
                new Invoice.Line("build minutes", 1200, 3),
                new Invoice.Line("registry storage", 450, 2),
                new Invoice.Line("support", 9900, 1)));
        for (Invoice.Line line : invoice.lines()) {
            System.out.printf("%-18s %3d x %s%n", line.item(), line.quantity(), Money.format(line.unitCents()));
        }
        System.out.println("subtotal " + Money.format(invoice.subtotalCents()));
        System.out.println("vat 20% " + Money.format(invoice.vatCents(20)));
        System.out.println("total " + Money.format(invoice.subtotalCents() + invoice.vatCents(20)));
    }
}
