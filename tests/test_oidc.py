"""Organisation sign-in: the [auth] configuration check and the mapping of ID-token claims to roles."""

from __future__ import annotations

from typing import Any

import pytest

from lessons.oidc import OidcRoleError, actor_from_claims, check_config, identity
from lessons.roles import Role
from lessons.settings import Settings

GOOD: dict[str, Any] = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "lessons",
    "client_secret": "s3cret",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}
CLAIMS = {"iss": "https://login.example.org", "sub": "u-1", "iat": 1700000000, "email": "Edda@Example.org"}


def test_a_good_configuration_is_usable_flat_or_named() -> None:
    """Flat [auth] keys use the default provider; a single [auth.NAME] table is that provider."""
    assert check_config(GOOD).usable and check_config(GOOD).provider is None
    keys = {k: GOOD[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    named = check_config({"redirect_uri": GOOD["redirect_uri"], "cookie_secret": GOOD["cookie_secret"], "org": keys})
    assert named.usable and named.provider == "org"


def test_no_auth_section_means_not_configured() -> None:
    """Without [auth] there is simply no organisation sign-in (not an error)."""
    assert not check_config(None).configured and not check_config({}).configured


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"redirect_uri": "localhost:8501"}, "redirect_uri must be the app's address ending in /oauth2callback"),
        ({"redirect_uri": "http://localhost:8501/"}, "ending in /oauth2callback"),
        ({"cookie_secret": "short"}, "cookie_secret must be a random string of at least 32"),
        ({"client_secret": None}, "[auth] client_secret is missing"),
        ({"client_id": ""}, "[auth] client_id is missing"),
        ({"server_metadata_url": "ftp://x"}, "server_metadata_url must be an http(s) address"),
    ],
)
def test_each_malformed_key_is_named(change: dict[str, Any], problem: str) -> None:
    """A missing or malformed key is named with the file it belongs in."""
    config = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    result = check_config(config)
    assert result.configured and not result.usable
    assert any(problem in p and ".streamlit/secrets.toml" in p for p in result.problems), result.problems


def test_provider_keys_missing_altogether() -> None:
    """[auth] with only the shared keys says the provider keys are missing."""
    result = check_config({"redirect_uri": GOOD["redirect_uri"], "cookie_secret": GOOD["cookie_secret"]})
    assert result.problems == (
        "[auth] has no client_id, client_secret and server_metadata_url (.streamlit/secrets.toml)",
    )


def test_role_from_a_claim_value_or_a_mapped_value() -> None:
    """'roles': ['editor'] gives editor; a mapped group name gives its role; the highest wins."""
    settings = Settings(oidc_role_claim="roles", oidc_role_values={"lessons-kuratorer": Role.CURATOR})
    assert actor_from_claims({**CLAIMS, "roles": ["editor"]}, settings).role is Role.EDITOR
    assert actor_from_claims({**CLAIMS, "roles": "lessons-kuratorer"}, settings).role is Role.CURATOR
    both = actor_from_claims({**CLAIMS, "roles": ["lessons-kuratorer", "Admin", "other"]}, settings)
    assert both.role is Role.ADMIN and both.name == "edda@example.org" and both.source == "oidc"


def test_role_from_e_mail_lists() -> None:
    """An address in LESSONS_OIDC_EDITORS is an editor; an unverified address counts for nothing."""
    settings = Settings(oidc_editors=["edda@example.org"])
    assert actor_from_claims(CLAIMS, settings).role is Role.EDITOR
    with pytest.raises(OidcRoleError, match="no role is assigned"):
        actor_from_claims({**CLAIMS, "email_verified": False}, settings)


def test_a_token_without_the_role_claim_gets_no_access() -> None:
    """The configured claim missing (and no list naming the user): a clear refusal naming the claim."""
    with pytest.raises(OidcRoleError, match="the token has no 'roles' claim"):
        actor_from_claims(CLAIMS, Settings(oidc_role_claim="roles"))


def test_a_claim_value_that_means_nothing_gets_no_access() -> None:
    """'roles': ['guest'] maps to no role: no access."""
    with pytest.raises(OidcRoleError, match="no role is assigned"):
        actor_from_claims({**CLAIMS, "roles": ["guest"]}, Settings(oidc_role_claim="roles"))


def test_no_mapping_configured_is_said_plainly() -> None:
    """Sign-in configured but no claim or e-mail list: the message says which settings to set."""
    with pytest.raises(OidcRoleError, match="LESSONS_OIDC_ROLE_CLAIM"):
        actor_from_claims({**CLAIMS, "roles": ["editor"]}, Settings())


def test_hostile_claims_are_bounded_and_names_are_safe() -> None:
    """A huge claim list is cut to 200 values; an odd e-mail becomes a stable pseudonym, never raw text."""
    settings = Settings(oidc_role_claim="roles")
    many = ["x" * 1000] * 100_000 + ["editor"]
    with pytest.raises(OidcRoleError):  # 'editor' is past the first 200 values
        actor_from_claims({**CLAIMS, "roles": many}, settings)
    odd = actor_from_claims({**CLAIMS, "email": "<script>@x", "roles": ["reader"]}, settings)
    assert odd.name.startswith("oidc-") and len(odd.name) == 17
    assert identity(CLAIMS) == "https://login.example.org|u-1|1700000000"
    assert len(identity({**CLAIMS, "sub": "s" * 100_000})) == 1000


def test_role_mapping_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """LESSONS_OIDC_ROLE_VALUES='a=editor' and comma-separated e-mail lists are read; a bad role is named."""
    from lessons.settings import SettingsError, load

    monkeypatch.setenv("LESSONS_OIDC_ROLE_VALUES", "grp-ed=editor, grp-cur=curator")
    monkeypatch.setenv("LESSONS_OIDC_CURATORS", "A@x.dk, b@y.dk")
    settings = load()
    assert settings.oidc_role_values == {"grp-ed": Role.EDITOR, "grp-cur": Role.CURATOR}
    assert settings.oidc_curators == ["a@x.dk", "b@y.dk"]
    monkeypatch.setenv("LESSONS_OIDC_ROLE_VALUES", "grp-ed=boss")
    with pytest.raises(SettingsError, match="LESSONS_OIDC_ROLE_VALUES"):
        load()


@pytest.mark.parametrize(
    ("claims", "settings", "danish", "english"),
    [
        ({"roles": ["editor"]}, Settings(), "der er ikke sat nogen rolletildeling op", "no role mapping is configured"),
        ({}, Settings(oidc_role_claim="roles"), "tokenet har ingen 'roles'-claim", "the token has no 'roles' claim"),
        ({"roles": ["guest"]}, Settings(oidc_role_claim="roles"), "har ingen rolle her", "no role is assigned"),
    ],
)
def test_a_refusal_is_said_in_either_language(
    claims: dict[str, object], settings: Settings, danish: str, english: str
) -> None:
    """Each organisation sign-in refusal has its words in both languages (the sign-in page shows the Danish one);
    str() stays the English the audit log records."""
    with pytest.raises(OidcRoleError) as caught:
        actor_from_claims({**CLAIMS, **claims}, settings)
    da, en = caught.value.describe("da"), caught.value.describe("en")
    assert danish in da and english not in da, da
    assert english in en and en == str(caught.value), en
