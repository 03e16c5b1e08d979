"""The social sign-in providers, from each vendor's public documentation.

- Google (OpenID Connect; https://developers.google.com/identity/openid-connect/openid-connect):
  discovery at accounts.google.com, scopes `openid email profile`; the ID token carries
  `email` and `email_verified`. Brands sign in with it.
- YouTube: a Google account (the same OpenID Connect provider) asked for the channel too
  (`https://www.googleapis.com/auth/youtube.readonly`). Creators sign in with it.
- TikTok Login Kit for Web (https://developers.tiktok.com/doc/login-kit-web): OAuth 2.0, not
  OpenID Connect; the app is named by `client_key`; authorize at
  www.tiktok.com/v2/auth/authorize/, token at open.tiktokapis.com/v2/oauth/token/, the
  person from open.tiktokapis.com/v2/user/info/ (`open_id`, `display_name`) with the scope
  `user.info.basic`. TikTok gives no e-mail address.
- Instagram API with Instagram Login (https://developers.facebook.com/documentation/
  instagram-platform/instagram-api-with-instagram-login/business-login): OAuth 2.0; authorize
  at www.instagram.com/oauth/authorize, token at api.instagram.com/oauth/access_token, the
  person from graph.instagram.com/me (`user_id`, `username`) with the scope
  `instagram_business_basic`. Instagram gives no e-mail address.

Without a verified e-mail an identity is never linked to an account by its address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BRANDS = frozenset({"brand", "agency"})
CREATORS = frozenset({"creator"})


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    protocol: Literal["oidc", "oauth2"]
    scopes: tuple[str, ...]
    # The workspace kinds whose people sign in with it.
    audience: frozenset[str]
    discovery_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    # The name of the client id parameter (TikTok calls it client_key).
    client_id_param: str = "client_id"
    # Where the subject, name and e-mail are in the user information (OAuth 2.0 providers).
    subject_path: tuple[str, ...] = ("sub",)
    name_path: tuple[str, ...] = ("name",)


GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"

PROVIDERS: dict[str, Provider] = {
    "google": Provider(
        name="google", label="Google", protocol="oidc", audience=BRANDS,
        scopes=("openid", "email", "profile"), discovery_url=GOOGLE_DISCOVERY,
    ),
    "youtube": Provider(
        name="youtube", label="YouTube", protocol="oidc", audience=CREATORS,
        scopes=("openid", "email", "profile", "https://www.googleapis.com/auth/youtube.readonly"),
        discovery_url=GOOGLE_DISCOVERY,
    ),
    "tiktok": Provider(
        name="tiktok", label="TikTok", protocol="oauth2", audience=CREATORS,
        scopes=("user.info.basic",),
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url="https://open.tiktokapis.com/v2/oauth/token/",  # noqa: S106 - a URL
        userinfo_url="https://open.tiktokapis.com/v2/user/info/?fields=open_id,display_name",
        client_id_param="client_key",
        subject_path=("data", "user", "open_id"), name_path=("data", "user", "display_name"),
    ),
    "instagram": Provider(
        name="instagram", label="Instagram", protocol="oauth2", audience=CREATORS,
        scopes=("instagram_business_basic",),
        authorize_url="https://www.instagram.com/oauth/authorize",
        token_url="https://api.instagram.com/oauth/access_token",  # noqa: S106 - a URL
        userinfo_url="https://graph.instagram.com/me?fields=user_id,username",
        subject_path=("user_id",), name_path=("username",),
    ),
}  # fmt: skip
