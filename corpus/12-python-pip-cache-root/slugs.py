"""Turn post titles into URL slugs."""
import sys

from slugify import slugify

TITLES = ["Docker Layers, Explained!", "Über-fast rebuilds", "COPY . . considered harmful"]

for title in sys.argv[1:] or TITLES:
    print(slugify(title))
