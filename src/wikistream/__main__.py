"""``python -m wikistream`` runs the CLI."""

from wikistream.cli.app import main

if __name__ == "__main__":
    main()
