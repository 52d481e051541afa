#!/usr/bin/env python
"""Django's manage.py; the installed `esante` command does the same."""

from esante.__main__ import main

if __name__ == "__main__":
    main()
