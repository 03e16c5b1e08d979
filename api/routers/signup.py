"""Self-serve sign-up for brands, agencies and creators, and e-mail verification.

A sign-up answers the same whether or not the e-mail has an account (202, "check your
e-mail"), and takes as long: the password is hashed either way. A new account gets a
welcome in its inbox and, by e-mail only, a single-use link that verifies the address (only
its SHA-256 is stored; it expires after 48 hours). The owner of an address that has an
account is told that someone tried to sign up with it. Unverified accounts sign in and look
around, but may not fund or publish a campaign (`require_verified`)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DatabaseDep, Principal, UserDep
from api.routers.creator_profile import Word
from api.routers.invitations import EMAIL_PATTERN
from api.schemas import Request as Body
from api.security import hash_password, secret_token_hash
from api.text import LINE
from domain.enums import WorkspaceKind
from domain.passwords import MAX_LENGTH, MIN_LENGTH, strong_password
from integrations.notifications import Message, Notifier
from models import accounts, creators, workspaces
from models.accounts import TokenState, Verified
from models.base import utcnow
from models.workspaces import User
from nexus.errors import Conflict, FieldProblem, Forbidden, Gone, NotFound

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])

VERIFY_TTL = timedelta(hours=48)
CHECK_EMAIL = (
    "Check your e-mail: we have sent a message to the address you gave. It tells you how to go on."
)
# What an unverified account is told when it tries to fund or publish.
VERIFY_FIRST = (
    "Verify your e-mail address first: open the link we e-mailed you when you signed up, or "
    "ask for a new one on your home page."
)

Name = Annotated[str, Field(min_length=1, max_length=200), LINE]


class _SignUp(Body):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    name: Name = Field(description="The person's name")
    password: str = Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description="At least 12 characters; not a common password nor the e-mail address",
    )

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str, info: ValidationInfo) -> str:
        # Asked of every sign-up alike, whether or not the e-mail has an account.
        return strong_password(password, str(info.data.get("email", "")))


class BrandSignUp(_SignUp):
    """A brand, or an agency that runs several brands: the workspace, its first brand, and
    the person signing up as its admin."""

    kind: Literal["brand", "agency"]
    workspace_name: Name | None = Field(
        default=None, description="The company or agency; the brand's name when left out"
    )
    brand_name: Name


class CreatorSignUp(_SignUp):
    """A creator: the account, its own workspace and its public profile."""

    kind: Literal["creator"]
    handle: str = Field(pattern=r"^[a-z0-9_.]{3,30}$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    niches: list[Word] = Field(default_factory=list, max_length=20)
    platforms: list[Word] = Field(default_factory=list, max_length=20)


SignUp = Annotated[BrandSignUp | CreatorSignUp, Field(discriminator="kind")]


class SignUpAccepted(BaseModel):
    detail: str = CHECK_EMAIL


class VerifyEmail(Body):
    token: str = Field(min_length=1, max_length=200)


class EmailVerified(BaseModel):
    email: str
    email_verified: bool = True


class HandleTaken(Conflict):
    """Handles are public (brands see them), so saying one is taken tells nothing private."""

    title = "Handle taken"
    type_slug = "handle-taken"

    def __init__(self) -> None:
        reason = "This handle is taken already."
        super().__init__(reason, errors=[FieldProblem("body.handle", reason)])


class EmailNotVerified(Forbidden):
    title = "E-mail address not verified"
    type_slug = "email-not-verified"


class TokenUnknown(NotFound):
    title = "Verification link not valid"
    type_slug = "verification-link-unknown"


class TokenUsed(Conflict):
    title = "Verification link used already"
    type_slug = "verification-link-used"


class TokenExpired(Gone):
    title = "Verification link expired"
    type_slug = "verification-link-expired"


# What a person reads about a link that does not verify, by what is wrong with it.
TOKEN_WORDS: dict[TokenState, str] = {
    TokenState.UNKNOWN: "This verification link is not valid. Check that you opened the whole "
    "link from the e-mail, or sign in and ask for a new one.",
    TokenState.USED: "This verification link was used already: each link works once. If your "
    "address is not verified yet, sign in and ask for a new one.",
    TokenState.EXPIRED: "This verification link has expired (links work for 48 hours). Sign in "
    "and ask for a new one.",
}
_TOKEN_ERRORS: dict[TokenState, type[Conflict | Gone | NotFound]] = {
    TokenState.UNKNOWN: TokenUnknown,
    TokenState.USED: TokenUsed,
    TokenState.EXPIRED: TokenExpired,
}


def verify_link(token: str) -> str:
    return f"/portal/verify?token={token}"


def _verify_message(user: User, token: str, token_id: object, welcome: bool) -> Message:
    """By e-mail only (no inbox row): opening it proves the address, which a link in the
    in-app inbox would not."""
    return Message(
        event_key=f"verify-email-{token_id}", user_id=None, email=user.email, name=user.name,
        kind="account",
        title="Welcome to NEXUS: verify your e-mail address" if welcome
        else "Verify your e-mail address for NEXUS",
        body="Open the link below to verify your e-mail address; it works once, for 48 hours. "
        "Until then you can look around, but not fund or publish a campaign.",
        link=verify_link(token),
    )  # fmt: skip


def _register(
    session: Session, body: BrandSignUp | CreatorSignUp, user: User, token: str
) -> list[Message] | None:
    """The new account with its welcome and verification e-mail, or for an e-mail that has an
    account, a note to its owner; None when the creator's handle was taken meanwhile."""
    known = workspaces.find_user_by_email(session, body.email)
    if known is None:
        try:
            with session.begin_nested():
                if isinstance(body, CreatorSignUp):
                    creators.sign_up(
                        session, user, handle=body.handle, country=body.country,
                        niches=body.niches, platforms=body.platforms,
                    )  # fmt: skip
                else:
                    accounts.sign_up_brand(
                        session, user, kind=WorkspaceKind(body.kind),
                        workspace_name=body.workspace_name or body.brand_name,
                        brand_name=body.brand_name,
                    )  # fmt: skip
        except IntegrityError:
            # The same e-mail or handle signed up meanwhile.
            known = workspaces.find_user_by_email(session, body.email)
            if known is None:
                return None
    if known is not None:
        return [
            Message(
                event_key=f"sign-up-attempt-{secrets.token_hex(16)}", user_id=known.id,
                email=known.email, name=known.name, kind="account",
                title="Someone tried to sign up with your e-mail",
                body="Your NEXUS account already uses this e-mail, so no new account was made. "
                "If it was you, sign in instead; if not, you can ignore this.",
                link="/portal/login",
            )
        ]  # fmt: skip
    row = workspaces.add_account_token(
        session, user.id, accounts.VERIFY_EMAIL, secret_token_hash(token), utcnow() + VERIFY_TTL
    )
    welcome = Message(
        event_key=f"signed-up-{user.id}", user_id=user.id, email=user.email, name=user.name,
        kind="account", title="Welcome to NEXUS",
        body="Your account is ready. We have e-mailed you a link that verifies your address; "
        "until you open it you can look around, but not fund or publish a campaign.",
        link="/portal",
    )  # fmt: skip
    return [welcome, _verify_message(user, token, row.id, welcome=True)]


def _deliver(request: Request, messages: list[Message]) -> None:
    notifier: Notifier = request.app.state.notifier
    try:
        notifier.deliver(messages)
    except OSError:
        log.warning("account messages for %s could not be sent", messages[0].email, exc_info=True)


async def register(request: Request, db: DatabaseDep, body: BrandSignUp | CreatorSignUp) -> None:
    """Sign up, for the API and the portal alike; `HandleTaken` is the only refusal after
    validation, and tells nothing about the e-mail."""
    if isinstance(body, CreatorSignUp) and "handle" in await db.run(
        creators.taken, body.email, body.handle
    ):
        raise HandleTaken()
    # Hashed whether or not the e-mail has an account: both answers take as long.
    password_hash = await run_in_threadpool(hash_password, body.password)
    user = User(email=body.email, name=body.name, password_hash=password_hash)
    messages = await db.run(_register, body, user, secrets.token_urlsafe(32))
    if messages is None:
        raise HandleTaken()
    await run_in_threadpool(_deliver, request, messages)


@router.post("/signup", status_code=202)
async def sign_up(body: SignUp, request: Request, db: DatabaseDep) -> SignUpAccepted:
    """Sign up as a brand, an agency or a creator. The answer is the same whether or not the
    e-mail has an account: the e-mail that follows tells the person how to go on (verify the
    new account, or that someone tried to sign up with their address)."""
    await register(request, db, body)
    return SignUpAccepted()


def _use(session: Session, token: str) -> Verified | TokenState:
    return accounts.use_verify_token(session, secret_token_hash(token))


async def verify(db: DatabaseDep, token: str) -> Verified:
    """Spend a verification token; a used, expired or unknown one is refused in words and
    changes nothing."""
    found = await db.run(_use, token)
    if isinstance(found, TokenState):
        words = TOKEN_WORDS[found]
        raise _TOKEN_ERRORS[found](words, errors=[FieldProblem("body.token", words)])
    return found


@router.post("/verify-email")
async def verify_email(body: VerifyEmail, db: DatabaseDep) -> EmailVerified:
    """Verify the account's e-mail address with the token from the e-mailed link."""
    verified = await verify(db, body.token)
    return EmailVerified(email=verified.email)


def _new_link(session: Session, user_id: object, token: str) -> Message | None:
    user = session.get(User, user_id)
    assert user is not None
    if user.email_verified_at is not None:
        return None
    row = workspaces.add_account_token(
        session, user.id, accounts.VERIFY_EMAIL, secret_token_hash(token), utcnow() + VERIFY_TTL
    )
    return _verify_message(user, token, row.id, welcome=False)


async def resend(request: Request, db: DatabaseDep, principal: Principal) -> None:
    """A new verification link by e-mail; Conflict once the address is verified."""
    message = await db.run(_new_link, principal.user_id, secrets.token_urlsafe(32))
    if message is None:
        raise Conflict("your e-mail address is verified already")
    await run_in_threadpool(_deliver, request, [message])


@router.post("/verify-email/resend", status_code=202)
async def resend_verification(
    principal: UserDep, request: Request, db: DatabaseDep
) -> SignUpAccepted:
    """E-mail the signed-in user a new verification link (links sent before keep working
    until they expire)."""
    await resend(request, db, principal)
    return SignUpAccepted(detail="We have e-mailed you a new verification link.")


async def require_verified(db: DatabaseDep, principal: Principal) -> None:
    """Refuse (403) moving money or publishing for an account whose e-mail address is not
    verified; a partner key acts for the person who created it."""
    if not await db.read(accounts.verified, principal.user_id, principal.api_key_id):
        raise EmailNotVerified(VERIFY_FIRST)
