"""`seatshift dashboard`: the Streamlit dashboard, on loopback unless sign-in is configured."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestration.lib import settings


def register(commands) -> None:
    dashboard = commands.add_parser(
        "dashboard", help="serve the Streamlit dashboard (127.0.0.1 unless sign-in is configured)"
    )
    dashboard.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    dashboard.add_argument(
        "--port",
        type=int,
        default=8501,
        help="the dashboard's port (default 8501); its dbt docs and Data Docs are on the next one",
    )
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; anything but loopback needs sign-in ([auth] in the secrets file)",
    )
    dashboard.add_argument(
        "--secrets",
        help="the dashboard's secrets.toml: [auth] sign-in and [seatshift.roles] (default "
        f"$SEATSHIFT_DASHBOARD_SECRETS or {settings.DEFAULT_DASHBOARD_SECRETS})",
    )
    dashboard.set_defaults(handler=run)


# What st.login needs of `[auth]`, and of each provider (`[auth]` itself, or `[auth.<name>]`).
SIGN_IN_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _sign_in_section(secrets: Path) -> dict | None:
    """The `[auth]` table of the dashboard's secrets file; None when there is none.

    Raises ValueError with a sentence when the file exists but is not TOML.
    """
    import tomllib

    if not secrets.is_file():
        return None
    try:
        parsed = tomllib.loads(secrets.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{secrets} is not valid TOML ({error})") from None
    auth = parsed.get("auth")
    if not isinstance(auth, dict) or not auth:
        return None
    missing = [key for key in SIGN_IN_KEYS if not auth.get(key)]
    providers = [value for value in auth.values() if isinstance(value, dict)] or [auth]
    missing += sorted(
        {key for provider in providers for key in PROVIDER_KEYS if not provider.get(key)}
    )
    if missing:
        raise ValueError(f"[auth] in {secrets} lacks {', '.join(missing)}")
    return auth


def run(args: argparse.Namespace) -> int:
    published = settings.warehouse_path(settings.from_here(args.warehouse))
    secrets = settings.dashboard_secrets_path(settings.from_here(args.secrets))
    try:
        auth = _sign_in_section(secrets)
    except ValueError as error:
        print(f"dashboard refused: {error}", file=sys.stderr)
        return 2
    host = args.host
    # why sign-in is off: a secrets file without [auth], or none at the path
    no_auth = f"no [auth] in {secrets}" if secrets.is_file() else f"no secrets file at {secrets}"
    if auth is None and not _is_loopback(host):
        print(
            f"dashboard refused: --host {host} would serve invoices and account data to anyone "
            f"who reaches it; sign-in is not configured ({no_auth}; see "
            ".streamlit/secrets.toml.example)",
            file=sys.stderr,
        )
        return 2
    # The dashboard fails closed: should the secrets file stop parsing while it serves, a reader
    # is turned away rather than treated as a local user with every role.
    # The dashboard serves the dbt docs and the GX Data Docs itself, on the port after its own
    # (127.0.0.1 only), unless SEATSHIFT_DOCS_URL names where a `seatshift docs` runs.
    docs_url = settings.current().docs_url or f"http://127.0.0.1:{args.port + 1}"
    env = settings.child_environment(
        SEATSHIFT_WAREHOUSE=str(published),
        SEATSHIFT_SIGN_IN_REQUIRED="1" if auth is not None else "",
        SEATSHIFT_DOCS_URL=docs_url,
        # the server writes no warehouse file, so its reads may keep the published one attached
        # (dashboards/lib/queries/_core.py)
        SEATSHIFT_KEEP_WAREHOUSE_ATTACHED="1",
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(settings.DASHBOARD_ENTRYPOINT),
        "--server.address", host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--secrets.files", str(secrets),
    ]  # fmt: skip
    if auth is None:
        print(
            f"serving the dashboard on http://{host}:{args.port} (warehouse {published}); "
            f"sign-in is not configured ({no_auth}): loopback only, every reader "
            f"holds every role; its dbt docs and Data Docs on {docs_url}/"
        )
    else:
        print(
            f"serving the dashboard on http://{host}:{args.port} (warehouse {published}) with "
            f"sign-in ({secrets})"
        )
    sys.stdout.flush()
    os.chdir(settings.REPO_ROOT)  # .streamlit/config.toml is read from the working folder
    os.execvpe(command[0], command, env)
    return 0  # not reached
