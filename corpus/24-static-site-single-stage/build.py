"""Build a tiny static site: every content/*.txt page becomes an HTML page, plus an index.

A page file starts with its title on the first line; the rest are paragraphs separated by
blank lines.
"""
import html
import pathlib
import sys

TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def render(path: pathlib.Path) -> tuple[str, str]:
    title, _, rest = path.read_text(encoding="utf-8").partition("\n")
    paragraphs = [p.strip() for p in rest.split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return title.strip(), TEMPLATE.format(title=html.escape(title.strip()), body=body)


def main(src: str, out: str) -> None:
    src_dir, out_dir = pathlib.Path(src), pathlib.Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    links = []
    for page in sorted(src_dir.glob("*.txt")):
        title, text = render(page)
        name = page.stem + ".html"
        (out_dir / name).write_text(text, encoding="utf-8")
        links.append(f'<li><a href="{name}">{html.escape(title)}</a></li>')
    index = TEMPLATE.format(title="Release notes", body="<ul>\n" + "\n".join(links) + "\n</ul>")
    (out_dir / "index.html").write_text(index, encoding="utf-8")
    print(f"built {len(links)} pages into {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
