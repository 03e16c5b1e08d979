"""The signed-in creator's own profile and portfolio: finished work on NEXUS (with the
checked video of each) and samples elsewhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pycountry
from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, Field, field_validator
from sqlmodel import Session

from api.deps import CreatorDep, DatabaseDep
from api.routers.deliveries import MEDIA_PARTS
from api.schemas import Language, Request
from api.text import LINE, Line, Text
from models import creators
from models.creators import PortfolioLink
from nexus.errors import Conflict, FieldProblem, NotFound

router = APIRouter(prefix="/creator", tags=["creator profile"])

MAX_LINKS = 20


def _country(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


Word = Annotated[str, Field(min_length=1, max_length=50), LINE, AfterValidator(str.lower)]


class ProfileUpdate(Request):
    display_name: Line = Field(min_length=1, max_length=200)
    bio: Text = Field(default="", max_length=2000)
    country: Annotated[str, AfterValidator(_country)]
    niches: list[Word] = Field(default_factory=list, max_length=20)
    platforms: list[Word] = Field(default_factory=list, max_length=20)
    languages: list[Language] = Field(
        default_factory=list,
        max_length=8,
        description="the languages you post in, the usual one first: a brief that names none "
        "checks your disclosure in the first",
    )

    @field_validator("niches", "platforms")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        return sorted(set(values))

    @field_validator("languages")
    @classmethod
    def _once_each(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))  # in the order given: the first is the usual one


class ProfilePublic(BaseModel):
    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    country: str
    niches: list[str]
    platforms: list[str]
    languages: list[str]


def _https(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("an https:// address is required")
    return url


class PortfolioLinkCreate(Request):
    url: Annotated[str, Field(max_length=2000), LINE, AfterValidator(_https)]
    title: Line = Field(default="", max_length=200)


class PortfolioLinkPublic(BaseModel):
    id: uuid.UUID
    url: str
    title: str
    created_at: datetime


class PortfolioWork(BaseModel):
    """A completed or approved delivery, with links to its checked media where there is."""

    delivery_id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_title: str
    finished_at: datetime
    submission_id: uuid.UUID | None = Field(description="the submission the media is of")
    media: dict[str, str] = Field(
        description="the checked video, its thumbnail (the poster) and captions, where stored"
    )
    kind: Literal["video", "photo"] = Field(
        default="video", description="a photo's `video` link is the checked photo"
    )


class Portfolio(BaseModel):
    work: list[PortfolioWork]
    links: list[PortfolioLinkPublic]


class CreatorPage(BaseModel):
    """What a brand sees of a creator who applied to or was invited to its campaigns: the
    profile, the samples, and the finished work done for this brand (other brands' videos
    stay theirs)."""

    profile: ProfilePublic
    portfolio: Portfolio


def portfolio_of(
    session: Session, creator_id: uuid.UUID, for_workspace: uuid.UUID | None = None
) -> Portfolio:
    """The creator's portfolio; with `for_workspace`, only the work done for that brand."""
    work = []
    for delivery, title, submission in creators.finished_work(session, creator_id):
        if for_workspace is not None and delivery.workspace_id != for_workspace:
            continue
        stored = (submission.media or {}) if submission else {}
        media = {
            part: f"/deliveries/{delivery.id}/submissions/{submission.id}/media/{part}"
            for part in ("video", "thumbnail", "captions")
            if submission is not None and stored.get(MEDIA_PARTS[part])
        }
        work.append(
            PortfolioWork(
                delivery_id=delivery.id,
                campaign_id=delivery.campaign_id,
                campaign_title=title,
                finished_at=delivery.approved_at or delivery.updated_at,
                submission_id=submission.id if submission else None,
                media=media,
                kind=stored.get("kind", "video"),
            )
        )
    links = [
        PortfolioLinkPublic.model_validate(link, from_attributes=True)
        for link in creators.portfolio_links(session, creator_id)
    ]
    return Portfolio(work=work, links=links)


@router.get("/profile")
async def get_profile(creator: CreatorDep, db: DatabaseDep) -> ProfilePublic:
    profile = await db.run(creators.get_profile, creator.creator_id)
    return ProfilePublic.model_validate(profile, from_attributes=True)


@router.put("/profile")
async def update_profile(
    body: ProfileUpdate, creator: CreatorDep, db: DatabaseDep
) -> ProfilePublic:
    profile = await db.run(
        lambda s: creators.update_profile(s, creator.creator_id, **body.model_dump())
    )
    return ProfilePublic.model_validate(profile, from_attributes=True)


@router.get("/portfolio")
async def get_portfolio(creator: CreatorDep, db: DatabaseDep) -> Portfolio:
    return await db.run(portfolio_of, creator.creator_id)


@router.post("/portfolio/links", status_code=201)
async def add_link(
    body: PortfolioLinkCreate, creator: CreatorDep, db: DatabaseDep
) -> PortfolioLinkPublic:
    link: PortfolioLink | None = await db.run(
        creators.add_portfolio_link, creator.creator_id, body.url, body.title, MAX_LINKS
    )
    if link is None:
        raise Conflict(
            f"a portfolio holds at most {MAX_LINKS} links",
            errors=[FieldProblem("body.url", f"Remove a link first: at most {MAX_LINKS}.")],
        )
    return PortfolioLinkPublic.model_validate(link, from_attributes=True)


@router.delete("/portfolio/links/{link_id}", status_code=204)
async def remove_link(link_id: uuid.UUID, creator: CreatorDep, db: DatabaseDep) -> Response:
    if not await db.run(creators.remove_portfolio_link, creator.creator_id, link_id):
        raise NotFound("no such portfolio link")
    return Response(status_code=204)
