"""Who may call every route: the expected outcome for each principal, written down by hand
(not read from the code it checks). tests/api/test_authorization_matrix.py probes every
route of the app with every principal against this table; a route without a row fails.

Principals: anonymous; the brand workspace's admin and member; the creator of that
workspace's delivery (a party to its license); an ops user; a partner key of the workspace
for each scope; and the admin of another brand workspace. Path parameters always name the
first workspace's resources, so for the other workspace's admin a resource route must answer
as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from api.schemas import Scope

Outcome = Literal["allow", "401", "403", "404"]
ALLOW: Outcome = "allow"  # authorization passed: anything but 401, 403 (and never a 5xx)
UNAUTH: Outcome = "401"  # no usable credential (a portal page: the redirect to sign in)
FORBID: Outcome = "403"  # known caller, not allowed (a portal page: the redirect home)
HIDDEN: Outcome = "404"  # allowed kind of caller, but the resource is not theirs

ANON, ADMIN, MEMBER, CREATOR, OPS, OTHER = (
    "anonymous",
    "brand_admin",
    "brand_member",
    "creator",
    "ops",
    "other_admin",
)
SCOPES: tuple[Scope, ...] = (
    "campaigns:read",
    "campaigns:write",
    "deliveries:read",
    "deliveries:write",
    "licenses:read",
    "licenses:write",
)
KEYS = tuple(f"key:{s}" for s in SCOPES)
PRINCIPALS = (ANON, ADMIN, MEMBER, CREATOR, OPS, *KEYS, OTHER)
USERS = (ADMIN, MEMBER, CREATOR, OPS)
BRAND = (ADMIN, MEMBER)


@dataclass(frozen=True)
class Row:
    outcomes: dict[str, Outcome]
    # A body that passes validation, so that a refusal by tenancy shows (a 422 would not).
    body: dict[str, object] | None = None
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)


def api(
    *roles: str,
    scope: str | None = None,
    mine: bool = False,
    body: dict[str, object] | None = None,
    query: dict[str, str] | None = None,
    but: dict[str, Outcome] | None = None,
) -> Row:
    """A JSON API route for the user `roles` and keys with `scope` ("*": any key). `mine`:
    the path names the brand workspace's resource, hidden from the other workspace."""
    outcomes: dict[str, Outcome] = {ANON: UNAUTH}
    for user in USERS:
        outcomes[user] = ALLOW if user in roles else FORBID
    for key, key_scope in zip(KEYS, SCOPES, strict=True):
        outcomes[key] = ALLOW if scope in (key_scope, "*") else FORBID
    outcomes[OTHER] = (HIDDEN if mine else ALLOW) if ADMIN in roles else FORBID
    return Row({**outcomes, **(but or {})}, body=body, query=query or {})


def page(
    *roles: str,
    mine: bool = False,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    but: dict[str, Outcome] | None = None,
) -> Row:
    """A portal page for the signed-in `roles`; a key is no session."""
    outcomes: dict[str, Outcome] = {ANON: UNAUTH, **dict.fromkeys(KEYS, UNAUTH)}
    for user in USERS:
        outcomes[user] = ALLOW if user in roles else FORBID
    outcomes[OTHER] = (HIDDEN if mine else ALLOW) if ADMIN in roles else FORBID
    return Row({**outcomes, **(but or {})}, form=form, query=query or {})


def public(body: dict[str, object] | None = None, form: dict[str, str] | None = None) -> Row:
    return Row(dict.fromkeys(PRINCIPALS, ALLOW), body=body, form=form)


REASON: dict[str, object] = {"reason": "matrix probe"}
ANY_SIGNED_IN = page(*USERS)

TABLE: dict[str, Row] = {
    # -- public ------------------------------------------------------------------------------
    "GET /": public(),
    "GET /openapi.json": public(),
    "GET /docs": public(),
    "GET /docs/oauth2-redirect": public(),
    "GET /redoc": public(),
    "GET /static": public(),
    # Swagger UI's and ReDoc's files for /docs and /redoc (api/docs.py).
    "GET /static/vendor/swagger-ui": public(),
    "GET /static/vendor/redoc": public(),
    "GET /healthz": public(),
    "GET /readyz": public(),
    "GET /ledger/public-key": public(),
    "POST /auth/login": public(),
    # The refresh token and the reset link's token are the credentials: a forged refresh
    # token is refused whatever else the caller carries.
    "POST /auth/refresh": Row(
        dict.fromkeys(PRINCIPALS, UNAUTH), body={"refresh_token": "matrix-probe"}
    ),
    "POST /auth/password/forgot": public(body={"email": "nobody@example.com"}),
    "POST /auth/password/reset": public(
        body={"token": "matrix-probe", "password": "violet tram ledger 42"}
    ),
    # Sign-up answers alike for a new and a known e-mail; a verification token is its own
    # credential (this one is forged: 404 for everyone).
    "POST /auth/signup": public(
        body={
            "kind": "brand",
            "email": "matrix-probe@example.com",
            "name": "Matrix Probe",
            "password": "matrix probe password",
            "brand_name": "Matrix Probe",
        }
    ),
    "POST /auth/verify-email": public(body={"token": "forged"}),
    # A verified webhook is its own authentication; a key or token changes nothing.
    "POST /webhooks/stripe": public(),
    # The invitation's token is the credential; a signed-in user joins as themselves.
    "POST /invitations/{token}/acceptance": public(),
    # -- identity, team and keys -------------------------------------------------------------
    # Into the brand workspace: only its own people are members.
    "POST /auth/switch": api(
        *USERS,
        body={"workspace_id": "{workspace_id}"},
        but={CREATOR: FORBID, OPS: FORBID, OTHER: FORBID},
    ),
    "GET /auth/me": api(*USERS, scope="*"),
    "POST /auth/logout": api(*USERS),
    "POST /auth/logout-all": api(*USERS),
    "POST /auth/password/change": api(
        *USERS, body={"current_password": "not it", "password": "violet tram ledger 42"}
    ),
    "POST /auth/verify-email/resend": api(*USERS),
    # An agency's clients: the probe's workspaces are brands, not agencies, so everyone is
    # refused (tests/api/test_agency_tenancy.py covers agencies).
    "GET /agency/clients": api(),
    "POST /agency/clients": api(body={"name": "Matrix client", "brand_name": "Matrix"}),
    "POST /api-keys": api(ADMIN),
    "GET /api-keys": api(ADMIN),
    "DELETE /api-keys/{key_id}": api(ADMIN, mine=True),
    "POST /workspaces/current/invitations": api(ADMIN),
    "GET /workspaces/current/invitations": api(ADMIN),
    "DELETE /workspaces/current/invitations/{invitation_id}": api(ADMIN, mine=True),
    # {user_id} is a member of the brand workspace who is no probing principal.
    "GET /workspaces/current/members": api(ADMIN),
    "PATCH /workspaces/current/members/{user_id}": api(
        ADMIN, mine=True, body={"role": "brand_member"}
    ),
    "DELETE /workspaces/current/members/{user_id}": api(ADMIN, mine=True),
    "GET /notifications": api(*USERS),
    # The admin's own notification: every other user is told it does not exist.
    "POST /notifications/{notification_id}/read": api(
        *USERS, but={MEMBER: HIDDEN, CREATOR: HIDDEN, OPS: HIDDEN, OTHER: HIDDEN}
    ),
    "GET /notifications/unread-count": api(*USERS),
    "POST /notifications/read-all": api(*USERS),
    "GET /notifications/preferences": api(*USERS),
    "PUT /notifications/preferences": api(*USERS, body={"email": {"money": False}}),
    # -- brands, campaigns, creators ---------------------------------------------------------
    "GET /brands": api(*BRAND, scope="campaigns:read"),
    "POST /brands": api(ADMIN),
    "POST /campaigns": api(*BRAND, scope="campaigns:write"),
    "GET /campaigns": api(*BRAND, scope="campaigns:read"),
    "GET /campaigns/{campaign_id}": api(*BRAND, mine=True, scope="campaigns:read"),
    "POST /campaigns/{campaign_id}/cancel": api(
        *BRAND, scope="campaigns:write", mine=True, body=REASON
    ),
    "POST /campaigns/{campaign_id}/publish": api(*BRAND, scope="campaigns:write", mine=True),
    "PATCH /campaigns/{campaign_id}": api(
        *BRAND, scope="campaigns:write", mine=True, body={"title": "matrix probe"}
    ),
    "POST /campaigns/{campaign_id}/close-applications": api(
        *BRAND, scope="campaigns:write", mine=True
    ),
    "GET /campaigns/{campaign_id}/applications": api(*BRAND, mine=True, scope="campaigns:read"),
    "POST /campaigns/{campaign_id}/invitations": api(
        *BRAND,
        scope="campaigns:write",
        mine=True,
        body={
            "creator_id": "{creator_id}",
            "deliverable_id": "{deliverable_id}",
            "price_minor": 1000,
        },
    ),
    "POST /campaigns/{campaign_id}/applications/{application_id}/decision": api(
        *BRAND, scope="campaigns:write", mine=True, body={"action": "reject"}
    ),
    "POST /campaigns/{campaign_id}/fundings": api(
        *BRAND, scope="campaigns:write", mine=True, body={"method": "bank_transfer"}
    ),
    "GET /campaigns/{campaign_id}/fundings": api(*BRAND, mine=True, scope="campaigns:read"),
    "GET /campaigns/{campaign_id}/statement": api(*BRAND, mine=True, scope="campaigns:read"),
    "GET /campaigns/{campaign_id}/fundings/{funding_id}/invoice.pdf": api(
        *BRAND, mine=True, scope="campaigns:read"
    ),
    "POST /campaigns/{campaign_id}/fundings/{funding_id}/disputes": api(
        *BRAND, scope="campaigns:write", mine=True, body=REASON
    ),
    "GET /campaigns/{campaign_id}/disputes": api(*BRAND, mine=True, scope="campaigns:read"),
    "GET /creators": api(*BRAND, scope="campaigns:read"),
    # Known to the workspace through its campaign; unknown to every other.
    "GET /creators/{creator_id}": api(*BRAND, mine=True, scope="campaigns:read"),
    # -- the creator's own -------------------------------------------------------------------
    "GET /creator/profile": api(CREATOR),
    "PUT /creator/profile": api(CREATOR),
    "GET /creator/portfolio": api(CREATOR),
    "POST /creator/portfolio/links": api(CREATOR),
    # A caption checked against the disclosure rulebook; nothing stored, nothing to hide.
    "POST /compliance/preflight": api(
        CREATOR, scope="deliveries:write", body={"caption": "#ad matrix probe"}
    ),
    "DELETE /creator/portfolio/links/{link_id}": api(CREATOR),
    "GET /creator/applications": api(CREATOR),
    "POST /creator/applications/{application_id}/response": api(CREATOR),
    "POST /creator/payout-account": api(CREATOR),
    "GET /creator/payouts": api(CREATOR),
    "GET /creator/payout-account": api(CREATOR),
    "PUT /creator/payout-account/bank-details": api(
        CREATOR, body={"holder_name": "Matrix Probe", "iban": "DE89370400440532013000"}
    ),
    # Another creator's payout (or none) is not found.
    "POST /creator/payouts/{payout_id}/disputes": api(CREATOR, body=REASON),
    "GET /creator/disputes": api(CREATOR),
    "GET /creator/statement": api(CREATOR),
    "GET /marketplace/campaigns": api(CREATOR),
    "GET /marketplace/campaigns/{campaign_id}": api(CREATOR),
    "POST /marketplace/campaigns/{campaign_id}/applications": api(CREATOR),
    # -- deliveries --------------------------------------------------------------------------
    "GET /deliveries": api(*BRAND, CREATOR, scope="deliveries:read"),
    "GET /deliveries/{delivery_id}": api(*BRAND, CREATOR, scope="deliveries:read", mine=True),
    "GET /deliveries/{delivery_id}/submissions/{submission_id}/media/{part}": api(
        *BRAND, CREATOR, scope="deliveries:read", mine=True
    ),
    "POST /deliveries/{delivery_id}/brief-acceptance": api(CREATOR),
    "POST /deliveries/{delivery_id}/product-receipt": api(CREATOR),
    "POST /deliveries/{delivery_id}/script": api(CREATOR),
    "POST /deliveries/{delivery_id}/drafts": api(CREATOR),
    "POST /deliveries/{delivery_id}/final": api(CREATOR),
    "POST /deliveries/{delivery_id}/extra-revision/answer": api(CREATOR),
    "POST /deliveries/{delivery_id}/review": api(
        *BRAND, scope="deliveries:write", mine=True, body={"decision": "approve"}
    ),
    "POST /deliveries/{delivery_id}/script-review": api(
        *BRAND, scope="deliveries:write", mine=True, body={"decision": "approve"}
    ),
    "POST /deliveries/{delivery_id}/extra-revision": api(
        *BRAND, scope="deliveries:write", mine=True, body={"notes": "one more"}
    ),
    "POST /deliveries/{delivery_id}/deadline": api(
        *BRAND, scope="deliveries:write", mine=True, body={"due_at": "2031-01-01T00:00:00Z"}
    ),
    "POST /deliveries/{delivery_id}/reassignment": api(
        *BRAND, scope="deliveries:write", mine=True, body=REASON
    ),
    # The delivery's conversation: its brand side and its creator; ops read it.
    "GET /deliveries/{delivery_id}/messages": api(
        *BRAND, CREATOR, OPS, scope="deliveries:read", mine=True
    ),
    "POST /deliveries/{delivery_id}/messages": api(
        *BRAND, CREATOR, scope="deliveries:write", mine=True, body={"body": "matrix probe"}
    ),
    "GET /deliveries/{delivery_id}/messages/{message_id}/attachment": api(
        *BRAND, CREATOR, OPS, scope="deliveries:read", mine=True
    ),
    # Uploads come from people: no key uploads an attachment.
    "POST /deliveries/{delivery_id}/attachments": api(
        *BRAND,
        CREATOR,
        mine=True,
        body={"filename": "brief.pdf", "content_type": "application/pdf", "size_bytes": 10},
    ),
    # -- uploads: people only; a key under another workspace's prefix does not exist --------
    "POST /uploads": api(*BRAND, CREATOR),
    "POST /uploads/complete": api(*BRAND, CREATOR),
    "PUT /uploads/content/{key:path}": api(*BRAND, CREATOR, mine=True, but={CREATOR: HIDDEN}),
    # -- licenses, the rights ledger, publications -------------------------------------------
    "GET /licenses": api(*BRAND, CREATOR, OPS, scope="licenses:read"),
    "GET /licenses/{license_id}": api(*BRAND, CREATOR, OPS, scope="licenses:read", mine=True),
    "GET /licenses/{license_id}/history": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True
    ),
    "GET /licenses/{license_id}/certificate.json": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True
    ),
    "GET /licenses/{license_id}/certificate.pdf": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True
    ),
    "GET /ledger/entries/{seq}": api(*BRAND, CREATOR, OPS, scope="licenses:read", mine=True),
    # What the brand paid for: its workspace and ops download; the creator is not shown them.
    "GET /licenses/{license_id}/downloads": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True, but={CREATOR: HIDDEN}
    ),
    "GET /licenses/{license_id}/video": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True, but={CREATOR: HIDDEN}
    ),
    "GET /licenses/{license_id}/final": api(
        *BRAND, CREATOR, OPS, scope="licenses:read", mine=True, but={CREATOR: HIDDEN}
    ),
    "GET /ledger/verify": api(OPS),
    "POST /licenses/{license_id}/changes": api(
        *BRAND,
        CREATOR,
        scope="licenses:write",
        mine=True,
        body={"ends_at": "2031-01-01T00:00:00Z"},
    ),
    "POST /licenses/{license_id}/changes/answer": api(
        *BRAND, CREATOR, scope="licenses:write", mine=True, body={"accept": False}
    ),
    "POST /licenses/{license_id}/disputes": api(
        *BRAND, CREATOR, scope="licenses:write", mine=True, body=REASON
    ),
    "POST /licenses/{license_id}/termination": api(
        *BRAND, scope="licenses:write", mine=True, body=REASON
    ),
    "POST /licenses/{license_id}/dispute-resolution": api(OPS),
    "POST /licenses/{license_id}/fees/{number}/funding": api(
        *BRAND, scope="licenses:write", mine=True, body={"method": "bank_transfer"}
    ),
    "GET /usage-check": api(
        *BRAND,
        scope="licenses:read",
        mine=True,
        query={"asset_id": "{asset_id}", "channel": "paid_social", "territory": "US"},
    ),
    "GET /assets/{asset_id}/rights": api(*BRAND, scope="licenses:read", mine=True),
    "GET /assets/{asset_id}/publications": api(*BRAND, scope="licenses:read"),
    "POST /assets/{asset_id}/publications": api(
        *BRAND,
        scope="licenses:write",
        mine=True,
        body={"channel": "paid_social", "territory": "US", "target": "matrix-ad"},
    ),
    # -- ops ---------------------------------------------------------------------------------
    "POST /ops/fundings/{funding_id}/confirm": api(OPS),
    "GET /ops/payouts": api(OPS),
    "POST /ops/payouts/{payout_id}/abandon": api(OPS),
    "GET /ops/manual-transfers": api(OPS),
    "GET /ops/fundings": api(OPS),
    "GET /ops/disputes": api(OPS),
    "POST /ops/disputes/{dispute_id}/resolution": api(OPS, body={"note": "matrix probe"}),
    "POST /ops/manual-transfers/{transfer_id}/settled": api(OPS),
    "GET /ops/audit": api(OPS),
    # Ops administration. Suspending the probe's workspace is sent without its reason (422
    # for ops): suspended, it would refuse every later probe.
    "GET /ops/users": api(OPS),
    "GET /ops/users/{user_id}": api(OPS),
    "GET /ops/workspaces": api(OPS),
    "GET /ops/workspaces/{workspace_id}": api(OPS),
    "GET /ops/admin-actions": api(OPS),
    "POST /ops/workspaces/{workspace_id}/suspension": api(OPS),
    "POST /ops/workspaces/{workspace_id}/reactivation": api(OPS, body=REASON),
    "POST /ops/users/{user_id}/suspension": api(OPS, body=REASON),
    "POST /ops/users/{user_id}/reactivation": api(OPS, body=REASON),
    "POST /ops/users/{user_id}/verification-email": api(OPS, body=REASON),
    "GET /moderation/{asset_id}": api(OPS),
    "POST /moderation/{asset_id}/review": api(OPS),
    # -- portal: sign-in and the pages every signed-in user has ------------------------------
    "GET /portal/login": public(),
    "POST /portal/login": public(),
    "GET /portal/auth/google/start": public(),
    "GET /portal/auth/google/callback": public(),
    "GET /portal/auth/youtube/start": public(),
    "GET /portal/auth/youtube/callback": public(),
    "GET /portal/auth/tiktok/start": public(),
    "GET /portal/auth/tiktok/callback": public(),
    "GET /portal/auth/instagram/start": public(),
    "GET /portal/auth/instagram/callback": public(),
    "GET /portal/signup": public(),
    "POST /portal/signup": public(),
    "GET /portal/signup/brand": public(),
    "POST /portal/signup/brand": public(),
    "GET /portal/verify": public(),
    "POST /portal/verify/resend": ANY_SIGNED_IN,
    "GET /portal/brands": page(*BRAND),
    "POST /portal/brands": page(ADMIN, form={"name": "Matrix brand"}),
    "POST /portal/logout": public(),
    "GET /portal/password/forgot": public(),
    "POST /portal/password/forgot": public(form={"email": "nobody@example.com"}),
    # The reset link's token is the credential (here not one: 404 for everyone).
    "GET /portal/password/reset/{token}": public(),
    "POST /portal/password/reset/{token}": public(
        form={"password": "violet tram ledger 42", "password_again": "violet tram ledger 42"}
    ),
    "GET /portal/account": ANY_SIGNED_IN,
    "POST /portal/account/password": page(
        *USERS, form={"current_password": "not it", "password": "x", "password_again": "x"}
    ),
    "POST /portal/account/sign-out-everywhere": ANY_SIGNED_IN,
    # Their own account's providers (none is configured in the probe: a page that says so).
    "POST /portal/account/connections/{provider}": ANY_SIGNED_IN,
    "POST /portal/account/connections/{provider}/removal": ANY_SIGNED_IN,
    "GET /portal/invitations/{token}": public(),
    "POST /portal/invitations/{token}": public(),
    "GET /portal": ANY_SIGNED_IN,
    "GET /portal/workspaces": ANY_SIGNED_IN,
    # Everyone's own inbox; the probe's notification is the admin's, unknown to anyone else.
    "GET /portal/notifications": ANY_SIGNED_IN,
    "GET /portal/notifications/badge": public(),
    "GET /portal/notifications/{notification_id}/open": page(
        *USERS, but={MEMBER: HIDDEN, CREATOR: HIDDEN, OPS: HIDDEN, OTHER: HIDDEN}
    ),
    "POST /portal/notifications/{notification_id}/read": page(
        *USERS, but={MEMBER: HIDDEN, CREATOR: HIDDEN, OPS: HIDDEN, OTHER: HIDDEN}
    ),
    "POST /portal/notifications/read-all": ANY_SIGNED_IN,
    "GET /portal/notifications/preferences": ANY_SIGNED_IN,
    "POST /portal/notifications/preferences": ANY_SIGNED_IN,
    "GET /portal/open/{link:path}": ANY_SIGNED_IN,
    "POST /portal/workspaces": page(
        *USERS,
        form={"workspace_id": "{workspace_id}"},
        but={CREATOR: FORBID, OPS: FORBID, OTHER: FORBID},
    ),
    # -- portal: brand pages -----------------------------------------------------------------
    "GET /portal/campaigns": page(*BRAND),
    "GET /portal/campaigns/new": page(*BRAND),
    "POST /portal/campaigns": page(*BRAND),
    "GET /portal/campaigns/{campaign_id}": page(*BRAND, mine=True),
    "POST /portal/campaigns/{campaign_id}/fundings": page(
        *BRAND, mine=True, form={"method": "bank_transfer"}
    ),
    "POST /portal/campaigns/{campaign_id}/publish": page(*BRAND, mine=True),
    "GET /portal/campaigns/{campaign_id}/edit": page(*BRAND, mine=True),
    "POST /portal/campaigns/{campaign_id}/edit": page(*BRAND, mine=True, form={"title": "probe"}),
    "GET /portal/campaigns/{campaign_id}/close-applications": page(*BRAND, mine=True),
    "POST /portal/campaigns/{campaign_id}/close-applications": page(*BRAND, mine=True),
    "GET /portal/campaigns/{campaign_id}/cancel": page(*BRAND, mine=True),
    "POST /portal/campaigns/{campaign_id}/cancel": page(
        *BRAND, mine=True, form={"reason": "matrix probe"}
    ),
    "POST /portal/campaigns/{campaign_id}/invitations": page(
        *BRAND, mine=True, form={"creator_id": "{creator_id}", "price": "10"}
    ),
    "POST /portal/campaigns/{campaign_id}/applications/{application_id}/decision": page(
        *BRAND, mine=True, form={"action": "reject"}
    ),
    "GET /portal/campaigns/{campaign_id}/statement": page(*BRAND, mine=True),
    "GET /portal/campaigns/{campaign_id}/statement.csv": page(*BRAND, mine=True),
    "GET /portal/campaigns/{campaign_id}/fundings/{funding_id}": page(*BRAND, mine=True),
    "GET /portal/campaigns/{campaign_id}/fundings/{funding_id}/invoice.pdf": page(
        *BRAND, mine=True
    ),
    "POST /portal/campaigns/{campaign_id}/fundings/{funding_id}/disputes": page(
        *BRAND, mine=True, form={"reason": "matrix probe"}
    ),
    "GET /portal/reviews": page(*BRAND),
    "POST /portal/deliveries/{delivery_id}/review": page(
        *BRAND, mine=True, form={"decision": "approve"}
    ),
    "POST /portal/deliveries/{delivery_id}/script-review": page(
        *BRAND, mine=True, form={"decision": "approve"}
    ),
    "POST /portal/deliveries/{delivery_id}/extra-revision": page(
        *BRAND, mine=True, form={"notes": "one more"}
    ),
    "GET /portal/licenses": page(*BRAND),
    "POST /portal/licenses/{license_id}/renewal": page(
        *BRAND, mine=True, form={"ends_on": "2031-01-01"}
    ),
    "GET /portal/creators/{creator_id}": page(*BRAND, mine=True),
    # A license's page and downloads: the brand holding it and ops; the certificate for
    # either party too.
    "GET /portal/licenses/{license_id}": page(*BRAND, OPS, mine=True, but={CREATOR: HIDDEN}),
    "GET /portal/licenses/{license_id}/video": page(*BRAND, OPS, mine=True, but={CREATOR: HIDDEN}),
    "GET /portal/licenses/{license_id}/final": page(*BRAND, OPS, mine=True, but={CREATOR: HIDDEN}),
    "GET /portal/licenses/{license_id}/certificate.pdf": page(*BRAND, CREATOR, OPS, mine=True),
    "GET /portal/deliveries/{delivery_id}/license": page(
        *BRAND, OPS, mine=True, but={CREATOR: HIDDEN}
    ),
    "GET /portal/team": page(ADMIN),
    # An agency's clients: the probe's workspaces are brands, not agencies, so everyone is
    # refused (tests/api/test_agency_tenancy.py and test_portal_agency.py cover agencies).
    "GET /portal/agency/clients": page(),
    "GET /portal/agency/clients/new": page(),
    "POST /portal/agency/clients": page(form={"name": "Matrix client", "brand_name": "Matrix"}),
    "POST /portal/team/invitations": page(ADMIN),
    # Another workspace's invitation is "gone" to it: the page goes back to its own team,
    # and DELETE /workspaces/current/invitations/{id} shows the 404 underneath.
    "POST /portal/team/invitations/{invitation_id}/revocation": page(ADMIN),
    # Another workspace's member is not found from the team page (404 with the page).
    "POST /portal/team/members/{user_id}/role": page(
        ADMIN, mine=True, form={"role": "brand_member"}
    ),
    "POST /portal/team/members/{user_id}/removal": page(ADMIN, mine=True),
    # -- portal: the delivery, its media and uploads (brand side and creator alike) ----------
    "GET /portal/deliveries/{delivery_id}": page(*BRAND, CREATOR, mine=True, but={OPS: HIDDEN}),
    "GET /portal/deliveries/{delivery_id}/live": page(
        *BRAND, CREATOR, mine=True, but={OPS: HIDDEN}
    ),
    "GET /portal/media/{delivery_id}/{submission_id}": page(
        *BRAND, CREATOR, mine=True, but={OPS: HIDDEN}
    ),
    "GET /portal/media/{delivery_id}/{submission_id}/{part}": page(
        *BRAND, CREATOR, mine=True, but={OPS: HIDDEN}
    ),
    "POST /portal/uploads": page(*BRAND, CREATOR),
    "POST /portal/uploads/complete": page(*BRAND, CREATOR),
    "PUT /portal/uploads/content/{key:path}": page(
        *BRAND, CREATOR, mine=True, but={CREATOR: HIDDEN}
    ),
    "GET /portal/deliveries/{delivery_id}/messages": page(*BRAND, CREATOR, OPS, mine=True),
    "POST /portal/deliveries/{delivery_id}/messages": page(
        *BRAND, CREATOR, mine=True, form={"body": "matrix probe"}
    ),
    "POST /portal/deliveries/{delivery_id}/attachments": page(*BRAND, CREATOR, mine=True),
    "GET /portal/deliveries/{delivery_id}/messages/{message_id}/attachment": page(
        *BRAND, CREATOR, OPS, mine=True
    ),
    # -- portal: creator pages ---------------------------------------------------------------
    "GET /portal/marketplace": page(CREATOR),
    "GET /portal/marketplace/{campaign_id}": page(CREATOR),
    "POST /portal/marketplace/{campaign_id}/applications": page(CREATOR),
    "GET /portal/applications": page(CREATOR),
    "POST /portal/applications/{application_id}/response": page(CREATOR),
    "GET /portal/work": page(CREATOR),
    "POST /portal/deliveries/{delivery_id}/brief-acceptance": page(CREATOR),
    "POST /portal/deliveries/{delivery_id}/product-receipt": page(CREATOR),
    "POST /portal/deliveries/{delivery_id}/script": page(CREATOR),
    "POST /portal/deliveries/{delivery_id}/submissions": page(CREATOR),
    "POST /portal/deliveries/{delivery_id}/caption-check": page(CREATOR, form={"caption": "#ad"}),
    "POST /portal/deliveries/{delivery_id}/extra-revision/answer": page(
        CREATOR, form={"accept": "no"}
    ),
    "GET /portal/earnings": page(CREATOR),
    "GET /portal/earnings/live": page(CREATOR),
    "POST /portal/payout-account": page(CREATOR),
    "POST /portal/payout-account/bank-details": page(
        CREATOR, form={"holder_name": "Matrix Probe", "iban": "DE89370400440532013000"}
    ),
    "POST /portal/payouts/dispute": page(CREATOR, form={"payout_id": "{payout_id}", "reason": "x"}),
    "GET /portal/earnings/statement.csv": page(CREATOR),
    "GET /portal/my-licenses": page(CREATOR),
    "POST /portal/my-licenses/{license_id}/answer": page(CREATOR),
    "GET /portal/profile": page(CREATOR),
    "POST /portal/profile": page(CREATOR),
    "POST /portal/profile/links": page(CREATOR),
    "POST /portal/profile/links/{link_id}/removal": page(CREATOR),
    # -- portal: ops -------------------------------------------------------------------------
    "GET /portal/ops": page(OPS),
    "GET /portal/ops/audit": page(OPS),
    # Ops administration; the probe's workspace is not suspended (no reason: 422 for ops).
    "GET /portal/ops/admin": page(OPS),
    "GET /portal/ops/admin/workspaces/{workspace_id}": page(OPS),
    "POST /portal/ops/admin/workspaces/{workspace_id}/suspension": page(OPS),
    "POST /portal/ops/admin/workspaces/{workspace_id}/reactivation": page(
        OPS, form={"reason": "matrix probe"}
    ),
    "GET /portal/ops/admin/users/{user_id}": page(OPS),
    "POST /portal/ops/admin/users/{user_id}/suspension": page(OPS, form={"reason": "matrix probe"}),
    "POST /portal/ops/admin/users/{user_id}/reactivation": page(
        OPS, form={"reason": "matrix probe"}
    ),
    "POST /portal/ops/admin/users/{user_id}/verification-email": page(
        OPS, form={"reason": "matrix probe"}
    ),
    "GET /portal/ops/fundings": page(OPS),
    "POST /portal/ops/fundings/{funding_id}/confirm": page(
        OPS, form={"amount": "11.00", "reference": "NX-0000-0000"}
    ),
    "GET /portal/ops/payouts": page(OPS),
    "POST /portal/ops/payouts/{payout_id}/abandon": page(OPS, form={"reason": "matrix probe"}),
    "POST /portal/ops/batches": page(OPS),
    "GET /portal/ops/batches/{batch_id}": page(OPS),
    "GET /portal/ops/batches/{batch_id}/transfers.csv": page(OPS),
    "POST /portal/ops/batches/{batch_id}/settled": page(OPS),
    "POST /portal/ops/transfers/{transfer_id}/settled": page(OPS),
    "GET /portal/ops/disputes": page(OPS),
    "POST /portal/ops/disputes/{dispute_id}/resolution": page(OPS, form={"note": "matrix probe"}),
    # The development mail catcher's e-mail (outside development, ops only).
    "GET /portal/mail": page(OPS),
    "GET /portal/ops/moderation/{asset_id}": page(OPS),
    "GET /portal/ops/moderation/{asset_id}/{part}": page(OPS),
    "POST /portal/ops/moderation/{asset_id}/review": page(OPS),
}
