"""Thin entry point: ``python maild.py ...`` behaves exactly like the ``maild`` console script."""

from maild.cli import main

if __name__ == "__main__":
    main()
