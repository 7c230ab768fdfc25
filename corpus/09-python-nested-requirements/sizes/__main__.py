import click
import humanize
from rich.console import Console
from rich.table import Table

SAMPLES = {"layer": 83_886_080, "context": 1_536, "cache": 3_221_225_472}


@click.command()
@click.option("--table", is_flag=True, help="Draw a table instead of plain lines.")
def main(table: bool) -> None:
    ordered = sorted(SAMPLES.items(), key=lambda kv: kv[1])
    if table:
        grid = Table("name", "size")
        for name, size in ordered:
            grid.add_row(name, humanize.naturalsize(size, binary=True))
        Console().print(grid)
        return
    for name, size in ordered:
        click.echo(f"{name}: {humanize.naturalsize(size, binary=True)}")


if __name__ == "__main__":
    main()
