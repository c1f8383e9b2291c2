"""Only for `scrapyd-deploy`, which builds an egg with `python setup.py bdist_egg` (and would write a
setup.py of its own, with another name and package list, where there is none). Everything about the
package is in pyproject.toml."""

from setuptools import setup

setup()
