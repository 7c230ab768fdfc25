"""Print the N most frequent words of the given files (or of a built-in sample), in any script."""
import collections

import click
import regex

SAMPLE = "the cache keeps the layer and the layer keeps the files"


@click.command()
@click.option("--top", default=3, show_default=True, help="How many words to print.")
@click.argument("files", nargs=-1, type=click.File("r"))
def main(top: int, files) -> None:
    text = " ".join(f.read() for f in files) if files else SAMPLE
    counts = collections.Counter(regex.findall(r"[\p{L}']+", text.lower()))
    for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        click.echo(f"{n:3d} {word}")


if __name__ == "__main__":
    main()
