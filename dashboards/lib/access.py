"""Who is reading, and what they may see: Streamlit's own OIDC sign-in (`st.login`, `st.user`)
and the roles of `[seatshift.roles]` in the dashboard's secrets file.

Without an `[auth]` table the dashboard is a local tool (`seatshift dashboard` then binds
127.0.0.1 only) and everyone holds every role, as before sign-in existed. With one, a reader
signs in first; pages and controls they may not use are left out, and a page opened by its URL
says which role is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from orchestration.lib import settings

VIEWER, FINANCE, ANALYST, OPERATOR = "viewer", "finance", "analyst", "operator"
# What each role opens, in the words the missing-role message uses.
ROLES = {
    VIEWER: "the aggregate pages",
    FINANCE: "invoice-level pages and account-level downloads",
    ANALYST: "what-if edits and the price-book download",
    OPERATOR: "Data health details, raw quarantined records and the audit trail",
}
# A member entry of `[seatshift.roles]`: an email address, `group:<name>` for a value of the
# ID token's group claim, or `*` for everyone who signs in.
GROUP_PREFIX = "group:"
EVERYONE = "*"
DEFAULT_GROUPS_CLAIM = "groups"


@dataclass(frozen=True)
class Reader:
    email: str | None  # None when sign-in is not configured (local use)
    name: str | None
    roles: frozenset[str]
    signed_in: bool

    def may(self, role: str) -> bool:
        return role in self.roles

    @property
    def label(self) -> str:
        if not self.signed_in:
            return "local user (sign-in not configured)"
        return self.email or self.name or "a reader without an email claim"


LOCAL_READER = Reader(email=None, name=None, roles=frozenset(ROLES), signed_in=False)
READER_KEY = "_seatshift_reader"  # set by the router on every run


def roles_for(
    email: str | None,
    groups: Iterable[str],
    table: Mapping[str, Iterable[str]],
) -> frozenset[str]:
    """The roles `[seatshift.roles]` gives a signed-in reader (pure, so it is tested alone).

    Emails compare case-insensitively; any role implies viewer (a finance reader also sees the
    aggregates). Without a `viewer` entry everyone who signs in is a viewer: the identity
    provider already decides who may sign in at all.
    """
    email = (email or "").strip().lower()
    groups = {str(group) for group in groups}
    held = set()
    for role, members in table.items():
        if role not in ROLES:
            continue
        for member in [members] if isinstance(members, str) else members:
            member = str(member).strip()
            if (
                member == EVERYONE
                or (member.startswith(GROUP_PREFIX) and member[len(GROUP_PREFIX) :] in groups)
                or (email and member.lower() == email)
            ):
                held.add(role)
    if held or VIEWER not in table:
        held.add(VIEWER)
    return frozenset(held)


def missing_role_sentence(role: str, reader: Reader) -> str:
    held = ", ".join(sorted(reader.roles)) or "no role"
    return (
        f"This needs the **{role}** role ({ROLES[role]}). You are signed in as "
        f"{reader.label} with: {held}. Ask whoever runs the dashboard to add you to "
        f"`{role}` in `[seatshift.roles]`."
    )


# ---- Streamlit -------------------------------------------------------------------------------


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file, or one that does not parse: no sign-in
        return {}


def _sign_in_required() -> bool:
    """Set by `seatshift dashboard` when it started with `[auth]`: the server may be reachable
    beyond loopback, so losing the configuration must not open the dashboard to everyone."""
    return settings.sign_in_required()


def providers() -> list[str | None]:
    """The named providers of `[auth]` (`[auth.google]`, ...); [None] for a single unnamed one."""
    auth = _secrets().get("auth") or {}
    named = [
        name for name, value in auth.items() if isinstance(value, dict) and "client_id" in value
    ]
    return named or [None]


def _user_groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(group) for group in value]


def current_reader() -> Reader:
    """The reader of this session; shows the sign-in screen and stops when nobody signed in."""
    secrets = _secrets()
    if not secrets.get("auth"):
        if _sign_in_required():
            st.error(
                "Sign-in is required on this server, but its secrets file no longer holds an "
                "[auth] table (or no longer parses). Nobody can sign in until it is fixed.",
                icon=":material/lock:",
            )
            st.stop()
        return LOCAL_READER
    if not st.user.is_logged_in:
        _sign_in_screen()
        st.stop()
    claims = st.user.to_dict()
    settings = secrets.get("seatshift") or {}
    groups = _user_groups(claims, str(settings.get("groups_claim") or DEFAULT_GROUPS_CLAIM))
    # Some providers send no email claim for some accounts: the subject then names the reader
    # in the audit trail (and matches no email entry of the roles table).
    email = claims.get("email")
    roles = roles_for(email, groups, settings.get("roles") or {})
    reader = Reader(
        email=email or (f"sub:{claims['sub']}" if claims.get("sub") else None),
        name=claims.get("name"),
        roles=roles,
        signed_in=True,
    )
    if not roles:  # `[seatshift.roles]` lists viewers, and this reader is not among them
        st.title("seatshift")
        st.error(
            f"You are signed in as {reader.label}, but hold no role in this dashboard. Ask "
            "whoever runs it to add you to `viewer` (or another role) in `[seatshift.roles]`.",
            icon=":material/lock:",
        )
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        st.stop()
    return reader


def _sign_in_screen() -> None:
    st.title("seatshift")
    st.markdown("Sign in to see the pricing dashboard.")
    for provider in providers():
        label = "Sign in" if provider is None else f"Sign in with {provider.capitalize()}"
        st.button(
            label,
            on_click=st.login,
            args=() if provider is None else (provider,),
            icon=":material/login:",
            type="primary",
        )


def reader_in_sidebar(reader: Reader) -> None:
    """Who is signed in, with which roles, and the way out; one line when sign-in is off."""
    with st.sidebar:
        if not reader.signed_in:
            st.caption("Sign-in is not configured: local use on 127.0.0.1, with every role.")
            return
        st.caption(
            f"Signed in as **{reader.name or reader.email}** ({reader.email}) · "
            f"roles: {', '.join(sorted(reader.roles)) or 'none'}"
        )
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")


def page_allowed(reader: Reader, role: str | None) -> bool:
    return role is None or reader.may(role)


def refuse_page(role: str, reader: Reader) -> None:
    """Stand-in for a page the reader may not open: say plainly which role is missing."""
    st.error(missing_role_sentence(role, reader), icon=":material/lock:")
    st.stop()


def locked(role: str, what: str) -> None:
    """A control left out: one quiet line in its place, so its absence is not a mystery."""
    st.caption(f":material/lock: {what} needs the {role} role.")


def reader() -> Reader:
    """The reader the router established for this run (the local reader outside the router)."""
    return st.session_state.get(READER_KEY, LOCAL_READER)


def may(role: str) -> bool:
    return reader().may(role)
