"""Joint purchases: the offer, members' pledges, payments against them, delivery and collection.

Quantities are integers in thousandths of a unit (QTY_SCALE), so a purchase sold by the kilogram can take
2.5 kg while one sold by the bag refuses half a bag; money is integer minor units of the purchase's
currency. A member's amount due is the pooled unit price times their quantity; the saving is what the
same quantity costs at the usual individual price minus that amount.

Every rule that must hold under concurrent messages (the maximum, the per-member limit, payment not above
what is due) is checked after re-reading the purchase with `lock_row`, so pledges and payments to one
purchase are serialised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from sqlalchemy import BigInteger
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, func, select

from storage import audit
from storage.clusters import Cluster
from storage.currency import payable_step
from storage.db import insert_once, lock_row, utcnow
from storage.exports import Rows, local
from storage.members import Member

QTY_SCALE = 1000
MAX_QUANTITY = 10_000_000 * QTY_SCALE  # more than any supplier sells: a typo, not an order
STATUSES = ("open", "closed", "ordered", "delivered", "cancelled")
PAYABLE = ("open", "closed", "ordered", "delivered")


class Purchase(SQLModel, table=True):
    """One joint purchase; quantities (minimum, maximum, member_limit) in thousandths of a unit."""

    __tablename__ = "purchases"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    item: str = Field(max_length=24)
    unit: str = Field(max_length=12)  # one unit, as in "per bag"
    units: str = Field(max_length=12)  # several, as in "38 of 50 bags"
    whole_units: bool = True
    currency: str = Field(max_length=3)
    unit_price: int = Field(sa_type=BigInteger)  # minor units, at the pooled rate
    individual_price: int = Field(default=0, sa_type=BigInteger)  # minor units, the usual price when a member buys alone; 0 = unknown
    supplier: str = Field(default="", max_length=30)
    pay_to: str = Field(default="", max_length=50)  # how members pay: a till or mobile-money number and a name
    minimum: int
    maximum: int | None = None
    member_limit: int | None = None
    deadline: datetime = Field(index=True)
    status: str = Field(default="open", max_length=10, index=True)
    segment: str = Field(default="all", max_length=120)
    created_by_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    ordered_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None

    def unit_word(self, quantity: int) -> str:
        return self.unit if quantity == QTY_SCALE else self.units


def column_length(name: str) -> int:
    """How many characters a purchase's text column holds: the one limit the flow, the CLI and storage use."""
    return Purchase.__table__.c[name].type.length


class PurchaseOffer(SQLModel, table=True):
    """Who a purchase was offered to: only they may pledge."""

    __tablename__ = "purchase_offers"
    __table_args__ = (UniqueConstraint("purchase_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchases.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    offered_at: datetime = Field(default_factory=utcnow)


class Pledge(SQLModel, table=True):
    """A member's live pledge to a purchase (quantity 0 once withdrawn); its history is in PledgeChange."""

    __tablename__ = "purchase_pledges"
    __table_args__ = (UniqueConstraint("purchase_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchases.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    quantity: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PledgeChange(SQLModel, table=True):
    """Every pledge a member made, replaced or withdrew, never edited."""

    __tablename__ = "purchase_pledge_changes"
    id: int | None = Field(default=None, primary_key=True)
    pledge_id: int = Field(foreign_key="purchase_pledges.id", index=True)
    previous: int
    quantity: int
    at: datetime = Field(default_factory=utcnow)


class PurchasePayment(SQLModel, table=True):
    """Money paid against a pledge: reported by the member, then confirmed or declined, or recorded directly.

    `reference_key` is the reference in capitals while the payment is not declined: unique per cluster, so
    one mobile-money receipt cannot pay twice, and a declined report frees its reference for a correction.
    """

    __tablename__ = "purchase_payments"
    __table_args__ = (UniqueConstraint("cluster_id", "reference_key"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    purchase_id: int = Field(foreign_key="purchases.id", index=True)
    pledge_id: int = Field(foreign_key="purchase_pledges.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    amount: int = Field(sa_type=BigInteger)
    reference: str = Field(default="", max_length=40)
    reference_key: str | None = Field(default=None, max_length=40)
    status: str = Field(default="reported", max_length=10, index=True)  # reported, confirmed, declined
    reported_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="members.id")


class PurchaseCollection(SQLModel, table=True):
    """A member collected their share of a delivered purchase."""

    __tablename__ = "purchase_collections"
    __table_args__ = (UniqueConstraint("purchase_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchases.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    collected_at: datetime = Field(default_factory=utcnow)
    recorded_by_id: int | None = Field(default=None, foreign_key="members.id")


class PurchaseError(ValueError):
    """A purchase rule refused the change; `code` names the rule for the handler's wording."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class Account:
    """One member's standing in one purchase, in minor units and thousandths of a unit."""

    quantity: int
    due: int
    paid: int  # confirmed
    reported: int  # waiting for confirmation
    saving: int
    collected: bool

    @property
    def outstanding(self) -> int:
        return max(self.due - self.paid, 0)


@dataclass(frozen=True)
class Summary:
    pledged: int
    pledgers: int
    due: int
    paid: int
    reported: int
    outstanding: int
    saving: int
    paid_in_full: int
    collected: int


# Arithmetic -----------------------------------------------------------------------------------------


def amount_for(price: int, quantity: int, currency: str) -> int:
    """Price of a quantity in minor units, rounded half up to what a member can pay in the currency: whole
    shillings for TZS (7.5 x TSh 1,501 is TSh 11,258, never TSh 11,257.50, which PAID would refuse), the
    cent for KES. Exact for whole units."""
    step = payable_step(currency)
    return int((Decimal(price) * quantity / QTY_SCALE / step).to_integral_value(ROUND_HALF_UP)) * step


def amount_due(purchase: Purchase, quantity: int) -> int:
    return amount_for(purchase.unit_price, quantity, purchase.currency)


def saving_for(purchase: Purchase, quantity: int) -> int:
    """What pooling saved on this quantity; 0 when the usual individual price is unknown."""
    if not purchase.individual_price:
        return 0
    return amount_for(purchase.individual_price, quantity, purchase.currency) - amount_due(purchase, quantity)


def minimum_met(session: Session, purchase: Purchase) -> bool:
    return pledged_total(session, purchase.id) >= purchase.minimum


# Creating and offering ------------------------------------------------------------------------------


def create_purchase(
    session: Session,
    cluster: Cluster,
    *,
    item: str,
    unit: str,
    unit_price: int,
    minimum: int,
    deadline: datetime,
    now: datetime,
    units: str = "",
    whole_units: bool = True,
    individual_price: int = 0,
    supplier: str = "",
    pay_to: str = "",
    maximum: int | None = None,
    member_limit: int | None = None,
    segment: str = "all",
    created_by: Member | None = None,
) -> Purchase:
    """A new open purchase after checking that its figures make sense together."""
    item, unit = item.strip(), unit.strip()
    if not item or not unit:
        raise PurchaseError("missing", "item and unit are required")
    if unit_price <= 0 or individual_price < 0:
        raise PurchaseError("price")
    for quantity in (minimum, maximum, member_limit):
        if quantity is not None:
            check_quantity(quantity, whole_units)
    if maximum is not None and maximum < minimum:
        raise PurchaseError("maximum_below_minimum")
    if member_limit is not None and maximum is not None and member_limit > maximum:
        raise PurchaseError("limit_above_maximum")
    if deadline <= now:
        raise PurchaseError("deadline_past")
    purchase = Purchase(
        cluster_id=cluster.id,
        item=item[:column_length("item")],
        unit=unit[:column_length("unit")],
        units=(units.strip() or unit)[:column_length("units")],
        whole_units=whole_units,
        currency=cluster.currency,
        unit_price=unit_price,
        individual_price=individual_price,
        supplier=supplier.strip()[:column_length("supplier")],
        pay_to=pay_to.strip()[:column_length("pay_to")],
        minimum=minimum,
        maximum=maximum,
        member_limit=member_limit,
        deadline=deadline,
        segment=segment.strip()[:120] or "all",
        created_by_id=created_by.id if created_by else None,
        created_at=now,
    )
    session.add(purchase)
    session.flush()
    _audit(
        session,
        "purchase.create",
        purchase,
        created_by,
        item=purchase.item,
        unit_price=unit_price,
        minimum=minimum,
        segment=purchase.segment,
    )
    return purchase


def _audit(session: Session, action: str, purchase: Purchase, actor: Member | None, **details) -> None:
    """One audit line about a purchase; `actor` is None when no member did it (a terminal, a job)."""
    audit.record(
        session,
        action,
        cluster_id=purchase.cluster_id,
        actor_member_id=actor.id if actor else None,
        subject=f"purchase {purchase.id}",
        **details,
    )


def check_quantity(quantity: int, whole_units: bool) -> None:
    """Refuse a quantity that no member could mean: negative, a fraction of a whole unit, absurdly large."""
    if quantity < 0:
        raise PurchaseError("negative")
    if whole_units and quantity % QTY_SCALE:
        raise PurchaseError("fraction")
    if quantity > MAX_QUANTITY:
        raise PurchaseError("too_large")


def offer(session: Session, purchase: Purchase, members: Iterable[Member], now: datetime) -> list[Member]:
    """Record who the purchase is offered to; returns those newly offered (each only once)."""
    return [
        m
        for m in members
        if m.cluster_id == purchase.cluster_id
        and insert_once(session, PurchaseOffer(purchase_id=purchase.id, member_id=m.id, offered_at=now))
    ]


def is_offered(session: Session, purchase: Purchase, member: Member) -> bool:
    return (
        session.exec(
            select(PurchaseOffer.id).where(
                PurchaseOffer.purchase_id == purchase.id, PurchaseOffer.member_id == member.id
            )
        ).first()
        is not None
    )


def offered_members(session: Session, purchase: Purchase) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .join(PurchaseOffer, PurchaseOffer.member_id == Member.id)
            .where(PurchaseOffer.purchase_id == purchase.id)
            .order_by(Member.id)
        )
    )


def get_purchase(session: Session, cluster: Cluster, purchase_id: int) -> Purchase | None:
    purchase = session.get(Purchase, purchase_id)
    return purchase if purchase is not None and purchase.cluster_id == cluster.id else None


def cluster_purchases(
    session: Session, cluster: Cluster, statuses: Iterable[str] = STATUSES
) -> list[Purchase]:
    return list(
        session.exec(
            select(Purchase)
            .where(Purchase.cluster_id == cluster.id, Purchase.status.in_(list(statuses)))
            .order_by(Purchase.id)
        )
    )


def open_offers(session: Session, member: Member, now: datetime) -> list[Purchase]:
    """Open purchases offered to this member whose deadline has not passed, soonest deadline first."""
    return list(
        session.exec(
            select(Purchase)
            .join(PurchaseOffer, PurchaseOffer.purchase_id == Purchase.id)
            .where(PurchaseOffer.member_id == member.id, Purchase.status == "open", Purchase.deadline > now)
            .order_by(Purchase.deadline, Purchase.id)
        )
    )


# Pledges --------------------------------------------------------------------------------------------


def pledged_total(session: Session, purchase_id: int) -> int:
    return session.exec(
        select(func.coalesce(func.sum(Pledge.quantity), 0)).where(Pledge.purchase_id == purchase_id)
    ).one()


def find_pledge(session: Session, purchase_id: int, member_id: int) -> Pledge | None:
    return session.exec(
        select(Pledge).where(Pledge.purchase_id == purchase_id, Pledge.member_id == member_id)
    ).first()


def pledgers(session: Session, purchase: Purchase) -> list[tuple[Pledge, Member]]:
    """Members with a live pledge above zero, in member order."""
    return list(
        session.exec(
            select(Pledge, Member)
            .join(Member, Member.id == Pledge.member_id)
            .where(Pledge.purchase_id == purchase.id, Pledge.quantity > 0)
            .order_by(Member.id)
        ).all()
    )


def pledge(session: Session, purchase_id: int, member: Member, quantity: int, now: datetime) -> Pledge:
    """Set a member's pledge (0 withdraws), replacing the previous one and keeping the change in history.

    Refusals (PurchaseError.code): gone, closed, not_offered, negative, fraction, too_large, over_limit,
    over_maximum (detail: what is left), no_pledge, same, below_paid.
    """
    purchase = lock_row(session, Purchase, purchase_id)
    if purchase is None or purchase.cluster_id != member.cluster_id:
        raise PurchaseError("gone")
    if purchase.status != "open" or now >= purchase.deadline:
        raise PurchaseError("closed")
    if not is_offered(session, purchase, member):
        raise PurchaseError("not_offered")
    check_quantity(quantity, purchase.whole_units)
    if purchase.member_limit is not None and quantity > purchase.member_limit:
        raise PurchaseError("over_limit")
    current = find_pledge(session, purchase.id, member.id)
    previous = current.quantity if current else 0
    if quantity == previous:
        raise PurchaseError("no_pledge" if quantity == 0 else "same")
    if purchase.maximum is not None:
        others = pledged_total(session, purchase.id) - previous
        if others + quantity > purchase.maximum:
            raise PurchaseError("over_maximum", str(max(purchase.maximum - others, 0)))
    if current is not None and amount_due(purchase, quantity) < _paid_or_reported(session, current.id):
        raise PurchaseError("below_paid")
    if current is None:
        current = Pledge(purchase_id=purchase.id, member_id=member.id, created_at=now)
    current.quantity, current.updated_at = quantity, now
    session.add(current)
    session.flush()
    session.add(PledgeChange(pledge_id=current.id, previous=previous, quantity=quantity, at=now))
    return current


# Payments -------------------------------------------------------------------------------------------


def _paid_or_reported(session: Session, pledge_id: int) -> int:
    return session.exec(
        select(func.coalesce(func.sum(PurchasePayment.amount), 0)).where(
            PurchasePayment.pledge_id == pledge_id, PurchasePayment.status != "declined"
        )
    ).one()


def _reference_key(reference: str) -> str | None:
    key = "".join(reference.split()).upper()[:40]
    return key or None


def _payable_pledge(
    session: Session, purchase_id: int, member: Member, amount: int, reference: str
) -> tuple[Purchase, Pledge]:
    purchase = lock_row(session, Purchase, purchase_id)
    if purchase is None or purchase.cluster_id != member.cluster_id:
        raise PurchaseError("gone")
    if purchase.status not in PAYABLE or purchase.status == "closed" and not minimum_met(session, purchase):
        raise PurchaseError("not_payable")
    current = find_pledge(session, purchase.id, member.id)
    if current is None or current.quantity == 0:
        raise PurchaseError("no_pledge")
    if amount <= 0:
        raise PurchaseError("amount")
    left = amount_due(purchase, current.quantity) - _paid_or_reported(session, current.id)
    if amount > left:
        raise PurchaseError("over_due", str(max(left, 0)))
    key = _reference_key(reference)
    if (
        key
        and session.exec(
            select(PurchasePayment.id).where(
                PurchasePayment.cluster_id == purchase.cluster_id, PurchasePayment.reference_key == key
            )
        ).first()
    ):
        raise PurchaseError("reference_used")
    return purchase, current


def report_payment(
    session: Session, purchase_id: int, member: Member, amount: int, reference: str, now: datetime
) -> PurchasePayment:
    """The member says they paid; it counts toward what is due once a facilitator or treasurer confirms."""
    purchase, current = _payable_pledge(session, purchase_id, member, amount, reference)
    return _add_payment(session, purchase, current, member, amount, reference, now)


def record_payment(
    session: Session,
    purchase_id: int,
    member: Member,
    amount: int,
    reference: str,
    actor: Member,
    now: datetime,
) -> PurchasePayment:
    """A facilitator or the treasurer received the money: recorded as confirmed at once."""
    purchase, current = _payable_pledge(session, purchase_id, member, amount, reference)
    payment = _add_payment(session, purchase, current, member, amount, reference, now)
    payment.status, payment.decided_at, payment.decided_by_id = "confirmed", now, actor.id
    session.add(payment)
    audit.record(
        session,
        "purchase.payment.record",
        cluster_id=purchase.cluster_id,
        actor_member_id=actor.id,
        subject=f"payment {payment.id}",
        member=member.number,
        amount=amount,
    )
    return payment


def _add_payment(
    session: Session,
    purchase: Purchase,
    current: Pledge,
    member: Member,
    amount: int,
    reference: str,
    now: datetime,
) -> PurchasePayment:
    payment = PurchasePayment(
        cluster_id=purchase.cluster_id,
        purchase_id=purchase.id,
        pledge_id=current.id,
        member_id=member.id,
        amount=amount,
        reference=reference.strip()[:40],
        reference_key=_reference_key(reference),
        reported_at=now,
    )
    if not insert_once(session, payment):
        raise PurchaseError("reference_used")
    return payment


def decide_payment(
    session: Session, cluster: Cluster, payment_id: int, actor: Member, confirm: bool, now: datetime
) -> PurchasePayment:
    """Confirm or decline a reported payment; a declined one frees its reference for a corrected report."""
    payment = lock_row(session, PurchasePayment, payment_id)
    if payment is None or payment.cluster_id != cluster.id:
        raise PurchaseError("gone")
    if payment.status != "reported":
        raise PurchaseError("already", payment.status)
    payment.status = "confirmed" if confirm else "declined"
    payment.decided_at, payment.decided_by_id = now, actor.id
    if not confirm:
        payment.reference_key = None
    session.add(payment)
    audit.record(
        session,
        f"purchase.payment.{payment.status}",
        cluster_id=cluster.id,
        actor_member_id=actor.id,
        subject=f"payment {payment.id}",
        amount=payment.amount,
    )
    return payment


# Standing -------------------------------------------------------------------------------------------


def _payment_sums(session: Session, purchase_id: int) -> dict[tuple[int, str], int]:
    rows = session.exec(
        select(PurchasePayment.member_id, PurchasePayment.status, func.sum(PurchasePayment.amount))
        .where(PurchasePayment.purchase_id == purchase_id)
        .group_by(PurchasePayment.member_id, PurchasePayment.status)
    ).all()
    return {(member_id, status): total for member_id, status, total in rows}


def _collected(session: Session, purchase_id: int) -> set[int]:
    return set(
        session.exec(
            select(PurchaseCollection.member_id).where(PurchaseCollection.purchase_id == purchase_id)
        ).all()
    )


def accounts(session: Session, purchase: Purchase) -> list[tuple[Member, Account]]:
    """Every member with a pledge above zero or money paid, with what they owe, paid and saved."""
    sums = _payment_sums(session, purchase.id)
    collected = _collected(session, purchase.id)
    rows = session.exec(
        select(Pledge, Member)
        .join(Member, Member.id == Pledge.member_id)
        .where(Pledge.purchase_id == purchase.id)
        .order_by(Member.id)
    ).all()
    result = []
    for pledge_row, member in rows:
        paid, reported = sums.get((member.id, "confirmed"), 0), sums.get((member.id, "reported"), 0)
        if pledge_row.quantity == 0 and not paid and not reported:
            continue
        result.append(
            (
                member,
                Account(
                    quantity=pledge_row.quantity,
                    due=amount_due(purchase, pledge_row.quantity),
                    paid=paid,
                    reported=reported,
                    saving=saving_for(purchase, pledge_row.quantity),
                    collected=member.id in collected,
                ),
            )
        )
    return result


def account(session: Session, purchase: Purchase, member: Member) -> Account:
    for who, acc in accounts(session, purchase):
        if who.id == member.id:
            return acc
    return Account(quantity=0, due=0, paid=0, reported=0, saving=0, collected=False)


def summary(session: Session, purchase: Purchase) -> Summary:
    """A purchase's totals; its saving is counted as `saves` says, the one rule of what pooling saved."""
    rows = [acc for _m, acc in accounts(session, purchase)]
    return Summary(
        pledged=sum(a.quantity for a in rows),
        pledgers=sum(1 for a in rows if a.quantity),
        due=sum(a.due for a in rows),
        paid=sum(a.paid for a in rows),
        reported=sum(a.reported for a in rows),
        outstanding=sum(a.outstanding for a in rows),
        saving=sum(a.saving for a in rows) if saves(session, purchase) else 0,
        paid_in_full=sum(1 for a in rows if a.quantity and a.outstanding == 0),
        collected=sum(1 for a in rows if a.collected),
    )


def saves(session: Session, purchase: Purchase) -> bool:
    """Whether a purchase's pledges count as saved: it reached its minimum (the group buys at the pooled
    price) and was not called off. Open purchases past their minimum count what is pledged so far; a
    purchase short of its minimum, open or closed, saves nothing yet."""
    return purchase.status != "cancelled" and minimum_met(session, purchase)


def cluster_savings(session: Session, cluster: Cluster) -> tuple[int, dict[int, int]]:
    """What joint buying saved the cluster: the total and each member's share (member id → minor units),
    over the purchases that `saves` counts: the same figure as the sum of their summaries' saving."""
    per_member: dict[int, int] = {}
    for purchase in cluster_purchases(session, cluster):
        if not saves(session, purchase):
            continue
        for pledge_row, member in pledgers(session, purchase):
            per_member[member.id] = per_member.get(member.id, 0) + saving_for(purchase, pledge_row.quantity)
    return sum(per_member.values()), per_member


# Life cycle -----------------------------------------------------------------------------------------


def open_purchases(session: Session) -> list[Purchase]:
    return list(session.exec(select(Purchase).where(Purchase.status == "open").order_by(Purchase.id)))


def due_to_close(session: Session, now: datetime) -> list[int]:
    return list(
        session.exec(
            select(Purchase.id)
            .where(Purchase.status == "open", Purchase.deadline <= now)
            .order_by(Purchase.id)
        ).all()
    )


def close(session: Session, purchase_id: int, now: datetime) -> Purchase | None:
    """Stop pledges at the deadline; None when another run already closed it or the deadline moved."""
    purchase = lock_row(session, Purchase, purchase_id)
    if purchase is None or purchase.status != "open" or purchase.deadline > now:
        return None
    purchase.status, purchase.closed_at = "closed", now
    session.add(purchase)
    return purchase


def extend(
    session: Session, purchase: Purchase, deadline: datetime, actor: Member | None, now: datetime
) -> Purchase:
    """A new deadline; a purchase closed short of its minimum opens again for pledges."""
    purchase = lock_row(session, Purchase, purchase.id)
    if purchase.status not in ("open", "closed"):
        raise PurchaseError("wrong_status", purchase.status)
    if deadline <= now:
        raise PurchaseError("deadline_past")
    purchase.deadline, purchase.status, purchase.closed_at = deadline, "open", None
    session.add(purchase)
    _audit(session, "purchase.extend", purchase, actor, deadline=deadline.isoformat())
    return purchase


_NEXT = {"cancelled": ("open", "closed"), "ordered": ("closed",), "delivered": ("ordered",)}


def advance(
    session: Session, purchase: Purchase, status: str, actor: Member | None, now: datetime
) -> Purchase:
    """Cancel, mark ordered or mark delivered; ordering needs the pledging closed with the minimum met."""
    purchase = lock_row(session, Purchase, purchase.id)
    if purchase.status not in _NEXT[status]:
        raise PurchaseError("wrong_status", purchase.status)
    if status == "ordered" and not minimum_met(session, purchase):
        raise PurchaseError("minimum_not_met")
    purchase.status = status
    setattr(purchase, f"{status}_at", now)
    session.add(purchase)
    _audit(session, f"purchase.{status}", purchase, actor)
    return purchase


def record_collection(
    session: Session, purchase: Purchase, member: Member, actor: Member | None, now: datetime
) -> PurchaseCollection:
    if purchase.status != "delivered":
        raise PurchaseError("not_delivered", purchase.status)
    current = find_pledge(session, purchase.id, member.id)
    if current is None or current.quantity == 0:
        raise PurchaseError("no_pledge")
    row = PurchaseCollection(
        purchase_id=purchase.id,
        member_id=member.id,
        collected_at=now,
        recorded_by_id=actor.id if actor else None,
    )
    if not insert_once(session, row):
        raise PurchaseError("already")
    return row


# Exports --------------------------------------------------------------------------------------------


def quantity_text(quantity: int) -> str:
    """A quantity as plain text for files: 2, 2.5, 0.125."""
    value = Decimal(quantity) / QTY_SCALE
    return format(value.normalize(), "f") if value else "0"


def money_text(minor: int, currency: str) -> str:
    """Major units as plain text for files (45000, 12.50): spreadsheets read it as a number."""
    return format(Decimal(minor).scaleb(-get_currency_precision(currency.upper())), "f")


def purchases_rows(session: Session, cluster: Cluster) -> Rows:
    columns = [
        "id",
        "item",
        "unit",
        "status",
        "supplier",
        "currency",
        "unit_price",
        "individual_price",
        "minimum",
        "maximum",
        "member_limit",
        "deadline",
        "segment",
        "offered",
        "pledgers",
        "pledged",
        "due",
        "paid",
        "reported",
        "outstanding",
        "saving",
        "collected",
        "created_at",
    ]

    def rows():
        for p in cluster_purchases(session, cluster):
            s = summary(session, p)
            offered = session.exec(
                select(func.count()).select_from(PurchaseOffer).where(PurchaseOffer.purchase_id == p.id)
            ).one()
            yield [
                p.id,
                p.item,
                p.unit,
                p.status,
                p.supplier,
                p.currency,
                money_text(p.unit_price, p.currency),
                money_text(p.individual_price, p.currency),
                quantity_text(p.minimum),
                quantity_text(p.maximum) if p.maximum is not None else "",
                quantity_text(p.member_limit) if p.member_limit is not None else "",
                local(p.deadline, cluster),
                p.segment,
                offered,
                s.pledgers,
                quantity_text(s.pledged),
                *(money_text(v, p.currency) for v in (s.due, s.paid, s.reported, s.outstanding, s.saving)),
                s.collected,
                local(p.created_at, cluster),
            ]

    return columns, rows()


def pledges_rows(session: Session, cluster: Cluster) -> Rows:
    columns = [
        "purchase_id",
        "item",
        "member_number",
        "name",
        "phone",
        "quantity",
        "unit",
        "currency",
        "due",
        "paid",
        "reported",
        "outstanding",
        "saving",
        "collected",
    ]

    def rows():
        for p in cluster_purchases(session, cluster):
            for member, acc in accounts(session, p):
                yield [
                    p.id,
                    p.item,
                    member.number,
                    member.name,
                    member.phone,
                    quantity_text(acc.quantity),
                    p.unit,
                    p.currency,
                    *(
                        money_text(v, p.currency)
                        for v in (acc.due, acc.paid, acc.reported, acc.outstanding, acc.saving)
                    ),
                    acc.collected,
                ]

    return columns, rows()


EXPORTS = {"purchases": purchases_rows, "pledges": pledges_rows}
