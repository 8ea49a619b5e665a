"""Single sign-on by OpenID Connect: the authorization code flow with PKCE, for a government's
unified identity service (统一身份认证).

gridwatch is the client: it sends the person to the provider, takes the code back, exchanges
it (client secret, PKCE verifier), and checks the ID token's signature against the provider's
keys, its issuer, audience, expiry and nonce (Authlib's PKCE, joserfc's JWT). The token's
``sub`` must be linked to an active local account (``gridwatch user create … --sso-subject
SUB``): the role and area are ours to give, never the provider's.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

#: how long a discovery document and the provider's keys are kept
CACHE_SECONDS = 300


class SsoRefused(Exception):
    """Why a sign-on failed, as a translation key (``sso_*``)."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Pending:
    """What the browser carries (signed) between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next_path: str

    def as_dict(self) -> dict[str, str]:
        return {"s": self.state, "n": self.nonce, "v": self.verifier, "x": self.next_path}

    @classmethod
    def of(cls, d: Any) -> Pending:
        if not isinstance(d, dict):
            raise SsoRefused("sso_state")
        try:
            return cls(str(d["s"]), str(d["n"]), str(d["v"]), str(d["x"]))
        except KeyError:
            raise SsoRefused("sso_state") from None


class OidcClient:
    def __init__(
        self, issuer: str, client_id: str, client_secret: str, http: httpx.Client | None = None
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http or httpx.Client(timeout=10)
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, Any] | None = None

    def discovery(self) -> dict[str, Any]:
        if self._discovery and self._discovery[0] > time.monotonic():
            return self._discovery[1]
        try:
            r = self.http.get(f"{self.issuer}/.well-known/openid-configuration")
            r.raise_for_status()
            doc = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused("sso_unreachable", str(exc)) from None
        if doc.get("issuer", "").rstrip("/") != self.issuer:
            raise SsoRefused("sso_unreachable", "the discovery document names another issuer")
        self._discovery = (time.monotonic() + CACHE_SECONDS, doc)
        return doc

    def begin(self, redirect_uri: str, next_path: str) -> tuple[str, Pending]:
        """The provider's sign-in address to send the browser to, and what to remember."""
        pending = Pending(
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
            next_path,
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": pending.state,
                "nonce": pending.nonce,
                "code_challenge": create_s256_code_challenge(pending.verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{self.discovery()['authorization_endpoint']}?{query}", pending

    def finish(self, code: str, state: str, pending: Pending, redirect_uri: str) -> dict[str, Any]:
        """The checked claims of the ID token the code is exchanged for."""
        if not secrets.compare_digest(state, pending.state):
            raise SsoRefused("sso_state")
        doc = self.discovery()
        try:
            r = self.http.post(
                doc["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": pending.verifier,
                },
                auth=(self.client_id, self.client_secret),
            )
        except httpx.HTTPError as exc:
            raise SsoRefused("sso_unreachable", str(exc)) from None
        if r.status_code != 200:
            raise SsoRefused("sso_token", r.text[:200])
        id_token = r.json().get("id_token")
        if not isinstance(id_token, str):
            raise SsoRefused("sso_token", "no id_token")
        try:
            token = jwt.decode(id_token, self._jwks(doc))
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
                exp={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SsoRefused("sso_token", str(exc)) from None
        return dict(token.claims)

    def _jwks(self, doc: dict[str, Any]) -> Any:
        if self._keys and self._keys[0] > time.monotonic():
            return self._keys[1]
        try:
            r = self.http.get(doc["jwks_uri"])
            r.raise_for_status()
            keys = KeySet.import_key_set(r.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused("sso_unreachable", str(exc)) from None
        self._keys = (time.monotonic() + CACHE_SECONDS, keys)
        return keys
