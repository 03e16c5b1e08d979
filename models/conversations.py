"""One conversation per delivery between the brand and the creator: text messages and
attachments (uploads, kept in object storage under their upload key), recorded with the
delivery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import created_at_field, id_field
from models.brands import Brand
from models.campaigns import Campaign
from models.creators import CreatorProfile
from models.deliveries import Delivery
from models.workspaces import ApiKey, User


class DeliveryMessage(SQLModel, table=True):
    __tablename__ = "delivery_messages"
    __table_args__ = (Index("ix_delivery_messages_delivery_created", "delivery_id", "created_at"),)

    id: uuid.UUID = id_field()
    delivery_id: uuid.UUID = Field(foreign_key="deliveries.id")
    # "brand" or "creator": the side of the delivery that wrote it.
    side: str = Field(max_length=10)
    # A person wrote it, or a brand's partner API key did.
    sender_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    sender_api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_keys.id")
    body: str = Field(default="", max_length=4000)
    attachment_key: str | None = Field(default=None, max_length=1024)
    attachment_name: str | None = Field(default=None, max_length=255)
    attachment_type: str | None = Field(default=None, max_length=100)
    attachment_bytes: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = created_at_field()


@dataclass(frozen=True)
class Party:
    """What people read of a delivery: its campaign and brand, its creator."""

    delivery: Delivery
    campaign_title: str
    brand_name: str
    creator_name: str
    creator_user_id: uuid.UUID


@dataclass(frozen=True)
class Posted:
    message: DeliveryMessage
    sender_name: str


def add(session: Session, message: DeliveryMessage) -> None:
    session.add(message)
    session.flush()


def parties(session: Session, delivery_id: uuid.UUID) -> Party | None:
    row = session.exec(
        select(Delivery, Campaign.title, Brand.name, CreatorProfile)
        .join(Campaign, col(Campaign.id) == col(Delivery.campaign_id))
        .join(Brand, col(Brand.id) == col(Campaign.brand_id))
        .join(CreatorProfile, col(CreatorProfile.id) == col(Delivery.creator_id))
        .where(Delivery.id == delivery_id)
    ).first()
    if row is None:
        return None
    delivery, title, brand_name, profile = row
    return Party(delivery, title, brand_name, profile.display_name, profile.user_id)


def _named(message: DeliveryMessage, user: User | None, key: ApiKey | None, party: Party) -> Posted:
    if message.side == "creator":
        name = party.creator_name
    elif user is not None:
        name = f"{user.name} ({party.brand_name})"
    else:
        name = f"{key.name if key else 'API'} (API, {party.brand_name})"
    return Posted(message, name)


def messages(session: Session, party: Party, *, limit: int) -> list[Posted]:
    """The delivery's latest `limit` messages, oldest first, with their senders' names."""
    rows = session.exec(
        select(DeliveryMessage, User, ApiKey)
        .outerjoin(User, col(User.id) == col(DeliveryMessage.sender_user_id))
        .outerjoin(ApiKey, col(ApiKey.id) == col(DeliveryMessage.sender_api_key_id))
        .where(DeliveryMessage.delivery_id == party.delivery.id)
        .order_by(col(DeliveryMessage.created_at).desc(), col(DeliveryMessage.id).desc())
        .limit(limit)
    ).all()
    return [_named(m, user, key, party) for m, user, key in reversed(rows)]


def posted(session: Session, party: Party, message: DeliveryMessage) -> Posted:
    user = session.get(User, message.sender_user_id) if message.sender_user_id else None
    key = session.get(ApiKey, message.sender_api_key_id) if message.sender_api_key_id else None
    return _named(message, user, key, party)


def get(session: Session, delivery_id: uuid.UUID, message_id: uuid.UUID) -> DeliveryMessage | None:
    row = session.get(DeliveryMessage, message_id)
    return row if row is not None and row.delivery_id == delivery_id else None
