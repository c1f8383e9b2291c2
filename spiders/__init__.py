"""The sites: one module per site, each declaring ``SITE``. A folder named ``spiders`` elsewhere on
``sys.path`` (``PYTHONPATH``) adds its modules to these: the soak test declares its loopback site so."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
