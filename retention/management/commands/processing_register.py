"""`manage.py processing_register --chain SLUG --format json|md [--output PATH]`: the chain's
processing register (GDPR Art. 30), as on the staff page; audited like a download."""

import json

from django.core.management.base import BaseCommand

from members.management.chains import chains_named
from retention import register


class Command(BaseCommand):
    help = "Print or write a chain's processing register (Art. 30) as JSON or Markdown."

    def add_arguments(self, parser):
        parser.add_argument("--chain", required=True)
        parser.add_argument("--format", choices=["json", "md"], required=True)
        parser.add_argument("--output", help="File to write; default: standard output.")

    def handle(self, *args, **options):
        chain = chains_named(options["chain"]).get()
        data = register.processing_register(chain=chain)
        text = (
            json.dumps(data, ensure_ascii=False, indent=2) + "\n"
            if options["format"] == "json"
            else register.register_markdown(data)
        )
        register.record_export(chain=chain, actor=None, what="register", fmt=f"command {options['format']}")
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")
