"""Project commands for ``scrapy`` (``COMMANDS_MODULE``): each module's command replaces Scrapy's of that name."""
