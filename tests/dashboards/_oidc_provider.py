"""A small OpenID Connect provider for the sign-in tests, on 127.0.0.1 only.

It speaks the real protocol Streamlit's `st.login` (Authlib) speaks to Google or Entra:
discovery, JWKS, the authorization-code flow (with PKCE when asked), RS256 ID tokens signed
with joserfc, userinfo and end-session. Its sign-in page is a one-field form: the test types
the email of one of the users it registered and the provider consents for them at once. Codes
are single-use, client credentials and redirect URIs are checked, so a dashboard misconfigured
against it fails as it would against a real provider.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.dashboards._browser import free_port

ID_TOKEN_SECONDS = 600


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    email: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass
class OidcProvider:
    """Register users (email -> extra ID-token claims, e.g. name and groups), then `start()`."""

    users: dict[str, dict[str, Any]]
    client_id: str = "seatshift-dashboard"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = field(default_factory=free_port)
    sign_ins: list[str] = field(default_factory=list)  # emails, in the order they signed in
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access_tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": "seatshift-test", "use": "sig", "alg": "RS256"}
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> OidcProvider:
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo),
                Route("/logout", self._logout),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- endpoints ---------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "groups"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_supported": ["sub", "email", "email_verified", "name", "groups"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({key: str(value) for key, value in (await request.form()).items()})
        if params.get("client_id") != self.client_id:
            return HTMLResponse("unknown client_id", status_code=400)
        if params.get("response_type") != "code" or not params.get("redirect_uri"):
            return HTMLResponse("only the authorization-code flow is served", status_code=400)
        if "openid" not in params.get("scope", "").split():
            return HTMLResponse("the openid scope is required", status_code=400)
        email = params.pop("email", None)
        if request.method == "GET" or not email:
            return HTMLResponse(self._sign_in_form(params))
        if email not in self.users:
            return HTMLResponse(f"no such user: {html.escape(email)}", status_code=403)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=params["redirect_uri"],
            email=email,
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            code_challenge_method=params.get("code_challenge_method"),
        )
        self.sign_ins.append(email)
        answer = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return RedirectResponse(
            params["redirect_uri"] + separator + urlencode(answer), status_code=302
        )

    def _sign_in_form(self, params: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in params.items()
        )
        return (
            "<!doctype html><title>Test identity provider</title>"
            "<h1>Test identity provider</h1>"
            f'<form method="post" action="/authorize">{hidden}'
            '<label>Email <input name="email" type="email" autofocus></label> '
            '<button type="submit">Continue</button></form>'
        )

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant.code_challenge and not _pkce_matches(grant, form.get("code_verifier")):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = grant.email
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": hashlib.sha256(grant.email.encode()).hexdigest()[:20],
            "aud": self.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            "auth_time": now,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **self._claims(grant.email),
        }
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_SECONDS,
                "id_token": id_token,
                "scope": "openid email profile",
            }
        )

    async def _userinfo(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        email = self._access_tokens.get(token)
        if email is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(self._claims(email))

    async def _logout(self, request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        if target:
            return RedirectResponse(target, status_code=302)
        return HTMLResponse("signed out")

    def _claims(self, email: str) -> dict[str, Any]:
        return {"email": email, "email_verified": True, **self.users[email]}


def _pkce_matches(grant: _Grant, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == grant.code_challenge
    return verifier == grant.code_challenge
