"""Organisation sign-in (OpenID Connect through Streamlit's ``st.login``): checking the configuration and
turning a signed-in user's ID-token claims into a role.

Streamlit (with Authlib) runs the protocol and keeps the claims in a signed cookie; this module only
reads them. The configuration lives in ``.streamlit/secrets.toml`` under ``[auth]``; roles come from a
claim (``LESSONS_OIDC_ROLE_CLAIM``, values mapped by ``LESSONS_OIDC_ROLE_VALUES`` or equal to a role
name) and/or from lists of e-mail addresses (``LESSONS_OIDC_EDITORS`` and the like). A user the
mapping gives no role gets no access, with a message saying why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lessons.errors import LessonsError
from lessons.roles import NAME_PATTERN, Actor, Role
from lessons.settings import Settings

__all__ = ["OidcConfig", "OidcRoleError", "actor_from_claims", "check_config", "identity"]

SECRETS_FILE = ".streamlit/secrets.toml"
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
MAX_CLAIM_VALUES = 200


class OidcRoleError(LessonsError):
    """A signed-in organisation user whose claims give no role here."""


@dataclass(frozen=True)
class OidcConfig:
    """The outcome of checking ``[auth]``: usable (with the provider to pass to ``st.login``), absent, or broken."""

    configured: bool
    provider: str | None = None  # None: the flat [auth] keys ("default")
    problems: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Configured without problems."""
        return self.configured and not self.problems


def _url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) < 2000


def check_config(auth: Mapping[str, Any] | None) -> OidcConfig:
    """Check the ``[auth]`` section: each missing or malformed key is named, so the sign-in page can say what to fix."""
    if not auth:
        return OidcConfig(configured=False)
    problems: list[str] = []
    redirect = auth.get("redirect_uri")
    if not _url(redirect) or not str(redirect).rstrip("/").endswith("/oauth2callback"):
        problems.append(f"[auth] redirect_uri must be the app's address ending in /oauth2callback ({SECRETS_FILE})")
    secret = auth.get("cookie_secret")
    if not isinstance(secret, str) or len(secret) < 32:
        problems.append(f"[auth] cookie_secret must be a random string of at least 32 characters ({SECRETS_FILE})")
    sections = {name: value for name, value in auth.items() if isinstance(value, Mapping)}
    provider: str | None = None
    if any(key in auth for key in _PROVIDER_KEYS):
        keys: Mapping[str, Any] = auth
        where = "[auth]"
    elif sections:
        provider = sorted(sections)[0]
        keys = sections[provider]
        where = f"[auth.{provider}]"
        if "_" in provider:
            problems.append(f"{where}: the provider name must not contain '_' ({SECRETS_FILE})")
    else:
        problems.append(f"[auth] has no client_id, client_secret and server_metadata_url ({SECRETS_FILE})")
        return OidcConfig(configured=True, problems=tuple(problems))
    for key in _PROVIDER_KEYS:
        value = keys.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where} {key} is missing ({SECRETS_FILE})")
    if isinstance(keys.get("server_metadata_url"), str) and not _url(keys.get("server_metadata_url")):
        problems.append(f"{where} server_metadata_url must be an http(s) address ({SECRETS_FILE})")
    return OidcConfig(configured=True, provider=provider, problems=tuple(problems))


def identity(claims: Mapping[str, Any]) -> str:
    """One sign-in's identity: issuer, subject and issue time (a new sign-in has a new one)."""
    return f"{claims.get('iss', '')}|{claims.get('sub', '')}|{claims.get('iat', '')}"[:1000]


def _name(claims: Mapping[str, Any]) -> str:
    """The name actions are recorded under: the e-mail, else the preferred user name, else a stable pseudonym."""
    for key in ("email", "preferred_username"):
        value = claims.get(key)
        if isinstance(value, str) and NAME_PATTERN.fullmatch(value.strip().lower()):
            return value.strip().lower()
    subject = str(claims.get("sub", ""))
    return "oidc-" + hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:12]


def recorded_name(claims: Mapping[str, Any]) -> str:
    """The name an organisation sign-in is recorded under (also when it maps to no role)."""
    return _name(claims)


def _claim_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part][:MAX_CLAIM_VALUES]
    if isinstance(value, list | tuple):
        return [str(v) for v in value[:MAX_CLAIM_VALUES] if isinstance(v, str | int)]
    return []


def actor_from_claims(claims: Mapping[str, Any], settings: Settings) -> Actor:
    """The actor for a signed-in organisation user, with the highest role their claims or e-mail give.

    Raises :class:`OidcRoleError` when no role mapping is configured, when the role claim is
    missing and no e-mail list names the user, or when nothing maps to a role.
    """
    roles: list[Role] = []
    claim = settings.oidc_role_claim.strip()
    lists = {
        Role.ADMIN: settings.oidc_admins,
        Role.EDITOR: settings.oidc_editors,
        Role.CURATOR: settings.oidc_curators,
        Role.READER: settings.oidc_readers,
    }
    if not claim and not any(lists.values()):
        raise OidcRoleError.worded("oidc_no_mapping")
    if claim and claim in claims:
        for value in _claim_values(claims[claim]):
            role = settings.oidc_role_values.get(value)
            if role is None and value.lower() in {r.value for r in Role}:
                role = Role(value.lower())
            if role is not None:
                roles.append(role)
    email = claims.get("email")
    verified = claims.get("email_verified", True) is not False
    if isinstance(email, str) and verified:
        address = email.strip().lower()
        roles += [role for role, addresses in lists.items() if address in addresses]
    if not roles:
        who = _name(claims)
        if claim and claim not in claims:
            raise OidcRoleError.worded("oidc_no_claim", who=who, claim=repr(claim))
        raise OidcRoleError.worded("oidc_no_role", who=who)
    return Actor(name=_name(claims), role=max(roles, key=lambda r: r.rank), source="oidc")
