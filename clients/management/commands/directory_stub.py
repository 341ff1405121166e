"""`manage.py directory_stub`: the local stand-in for the organization directory."""

from django.core.management.base import BaseCommand, CommandParser

from clients.directory_stub import make_stub_server


class Command(BaseCommand):
    help = (
        "Serve a DaData-compatible party API (suggest/party and findById/party) from bundled "
        "made-up companies, for development. Point a reseller's autofill URL at "
        "http://HOST:PORT; no key is needed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Default: 127.0.0.1.")
        parser.add_argument("--port", type=int, default=8001, help="Default: 8001.")

    def handle(self, *args, host: str, port: int, verbosity: int, **options) -> None:
        # Requests are logged from -v 2 only: under `make run` runserver already logs its own.
        server = make_stub_server(host, port, quiet=verbosity < 2)
        self.stdout.write(
            f"Organization directory stub on {server.base_url}/ "
            f"({len(server.parties)} companies); Ctrl+C stops it."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
