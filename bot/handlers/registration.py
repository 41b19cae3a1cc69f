"""Joining a cluster: a guided flow of seven questions, each answer checked, then a facilitator decides."""

from __future__ import annotations

from sqlmodel import Session, select

from bot import outbox, parse, router
from bot.context import ANYONE, FACILITATOR, Command, Ctx
from bot.flow import Flow, Step, StepError
from bot.i18n import N_
from bot.parse import ParseError
from storage import members as store
from storage.clusters import Cluster, find_by_code, only_cluster
from storage.members import Identity, Member, MemberError

GENDERS = [("female", N_("Woman")), ("male", N_("Man")), ("other", N_("Other"))]
ROLES = [("firm", N_("Firm or farm")), ("government", N_("Government")), ("academia", N_("Academia")),
         ("support", N_("Support organisation"))]
LANGS = [("en", N_("English")), ("sw", N_("Kiswahili")), ("fr", N_("Français")), ("am", N_("Amharic"))]
LANG_ALIASES = {"en": ["english", "kiingereza", "anglais"], "sw": ["swahili", "kiswahili"],
                "fr": ["francais", "french", "kifaransa"], "am": ["amharic", "አማርኛ", "amharique"]}

QUESTIONS = {
    "name": N_("What is your full name?"),
    "business": N_("What is the name of your business or farm?"),
    "sector": N_("What does your business do? (e.g. tailoring, coffee, dairy)"),
    "location": N_("Where is your business? (town or village)"),
    "gender": N_("Are you: 1 Woman, 2 Man, 3 Other?"),
    "role": N_("Which are you? 1 Firm or farm, 2 Government, 3 Academia, 4 Support organisation"),
    "language": N_("Which language? 1 English, 2 Kiswahili, 3 Français, 4 Amharic"),
}
CONTACT = "__contact__"  # Telegram's "share my phone number" button; a shared contact runs LINK
LETTERS = N_("Please answer in 2 to {limit} letters.")


def _start(ctx: Ctx) -> dict | None:
    """The cluster to join (by its code when there are several), or None after saying why not."""
    if ctx.member is not None and ctx.member.status in ("pending", "active"):
        ctx.reply("You are already registered with {cluster} as {number}. Send PROFILE to see your details.",
                  cluster=ctx.cluster.name, number=ctx.member.number)
        return None
    if ctx.args:
        cluster = find_by_code(ctx.session, router.split_first(ctx.args)[0])
        if cluster is None:
            ctx.reply("There is no cluster with the code {code}. Ask your facilitator for the join code.",
                      code=router.split_first(ctx.args)[0][:20].upper())
            return None
    else:
        cluster = only_cluster(ctx.session)
        if cluster is None:
            ctx.reply("Send JOIN and your cluster's join code, for example: JOIN MOSHI")
            return None
    if not ctx.identity.language:
        ctx.identity.language = ctx.lang
        ctx.session.add(ctx.identity)
    return {"cluster_id": cluster.id}


def _welcome(ctx: Ctx, values: dict) -> None:
    # On Telegram a member who registered by SMS taps the contact button instead of answering.
    ctx.reply("Welcome to {cluster}! We will ask 7 short questions. What is your full name?",
              cluster=ctx.session.get(Cluster, values["cluster_id"]).name,
              buttons=[(N_("Share my phone number"), CONTACT)] if ctx.has_buttons else None)


def _letters(ctx: Ctx, text: str, values: dict) -> str:
    if not any(ch.isalpha() for ch in text):
        raise StepError()
    return text


def _said(key: str, limit: int) -> Step:
    """A question answered in words: a name or a place."""
    return Step(key, QUESTIONS[key], reader=_letters, free_text=True, max_length=limit, hint=LETTERS)


def _finish(ctx: Ctx, data: dict) -> None:
    cluster = ctx.session.get(Cluster, data["cluster_id"])
    phone = ctx.identity.address if ctx.identity.channel == "sms" else ""
    fields = {k: data[k] for k in ("name", "business", "sector", "location", "gender", "role")}
    member = store.create_member(ctx.session, cluster, phone=phone, language=data["language"], **fields)
    store.attach_identity(ctx.session, ctx.identity, member)
    ctx.identity.language = data["language"]
    ctx.session.add(ctx.identity)
    ctx.member, ctx.cluster, ctx.lang = member, cluster, data["language"]
    ctx.reply("Thank you, {name}! Your number is {number}. A facilitator will approve you soon.",
              name=member.name, number=member.number)
    for admin in store.admins(ctx.session, cluster.id, ("facilitator",)):
        _announce(ctx.session, cluster, member, admin)


# The facilitator's notice by which of business and location the member gave: one imported from a short
# list may have neither, and an empty field must leave no stray ", ,".
ANNOUNCEMENTS = {
    (True, True): N_("New member {number}: {name}, {business}, {location}. Send APPROVE {number} or REJECT "
                     "{number}."),
    (True, False): N_("New member {number}: {name}, {business}. Send APPROVE {number} or REJECT {number}."),
    (False, True): N_("New member {number}: {name}, {location}. Send APPROVE {number} or REJECT {number}."),
    (False, False): N_("New member {number}: {name}. Send APPROVE {number} or REJECT {number}."),
}


def _announce(session: Session, cluster: Cluster, member: Member, facilitator: Member) -> None:
    business, location = (member.business or "").strip(), (member.location or "").strip()
    outbox.notify(session, facilitator, ANNOUNCEMENTS[bool(business), bool(location)], in_cluster=cluster,
                  number=member.number, name=member.name, business=business, location=location)


ANNOUNCED = 5  # a new facilitator hears of at most this many waiting registrations one by one


def announce_pending(session: Session, cluster: Cluster, facilitator: Member) -> int:
    """A facilitator just named hears of the registrations waiting for a decision (members who joined
    before any facilitator existed were told of nobody): the oldest one by one, then that more wait.
    Returns how many registrations wait."""
    waiting = list(session.exec(select(Member).where(Member.cluster_id == cluster.id, Member.status == "pending")
                                .order_by(Member.id)))
    for member in waiting[:ANNOUNCED]:
        _announce(session, cluster, member, facilitator)
    if len(waiting) > ANNOUNCED:
        outbox.notify(session, facilitator, "More registrations wait for approval: see the members page of the "
                      "dashboard.", in_cluster=cluster)
    return len(waiting)


JOIN = Flow(
    "join",
    steps=[
        _said("name", 60),
        _said("business", 80),
        _said("sector", 60),
        _said("location", 60),
        Step("gender", QUESTIONS["gender"], choices=GENDERS, listed=True),
        Step("role", QUESTIONS["role"], choices=ROLES, listed=True),
        Step("language", QUESTIONS["language"], choices=LANGS, aliases=LANG_ALIASES, listed=True),
    ],
    finish=_finish,
    keyword="JOIN",
    access=ANYONE,
    start=_start,
    intro=_welcome,
    busy=N_("Please finish registering first. {question}"),
)


def approve(ctx: Ctx) -> None:
    _decide(ctx, "active")


def reject(ctx: Ctx) -> None:
    _decide(ctx, "rejected")


def _decide(ctx: Ctx, status: str) -> None:
    try:
        ref = parse.member_ref(ctx.args, ctx.region)  # all of it: APPROVE 0712 000 006 is one phone
    except ParseError:
        ctx.reply("Send {keyword} and a member number or phone, for example: {keyword} {example}",
                  keyword=router.keyword(ctx.command, ctx.lang), example=f"{ctx.cluster.code}-001")
        return
    member = store.find_member(ctx.session, ctx.cluster, ref.key)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref.text[:24])
        return
    try:
        store.decide(ctx.session, member, status, ctx.member)
    except MemberError:
        ctx.reply("{number} is already {status}; nothing changed.", number=member.number,
                  status=ctx.t(STATUS_LABELS[member.status]))
        return
    if status == "active":
        ctx.reply("{number} {name} is now an active member.", number=member.number, name=member.name)
        outbox.notify(ctx.session, member, "Welcome to {cluster}! You are now a member, number {number}. "
                      "Send HELP to see what you can do.", in_cluster=ctx.cluster, cluster=ctx.cluster.name,
                      number=member.number)
    else:
        ctx.reply("{number} {name} was not accepted.", number=member.number, name=member.name)
        outbox.notify(ctx.session, member, "Sorry, your request to join {cluster} was not accepted. "
                      "Please talk to your facilitator.", in_cluster=ctx.cluster,
                      cluster=ctx.cluster.name)


STATUS_LABELS = {"pending": N_("waiting for approval"), "active": N_("active"),
                 "rejected": N_("not accepted"), "left": N_("left")}


def link(ctx: Ctx) -> None:
    """A Telegram user shared their phone: attach this chat to the member who registered by SMS."""
    phone = parse.phone(ctx.args, ctx.settings.default_region)
    owner = None
    if phone:
        sms = ctx.session.exec(select(Identity).where(Identity.channel == "sms", Identity.address == phone)).first()
        owner = ctx.session.get(Member, sms.member_id) if sms and sms.member_id else None
    if owner is None:
        ctx.reply("No member is registered with that phone number. Send JOIN to register.")
        return
    if ctx.identity.member_id not in (None, owner.id):
        ctx.reply("This chat already belongs to another member. Ask your facilitator for help.")
        return
    store.attach_identity(ctx.session, ctx.identity, owner)
    ctx.identity.language = owner.language
    ctx.session.add(ctx.identity)
    ctx.end_flow()  # a JOIN begun before sharing the contact is no longer needed
    ctx.member, ctx.lang = owner, owner.language
    ctx.reply("Linked! This Telegram chat now belongs to {name}, {number}.", name=owner.name,
              number=owner.number)


COMMANDS = [
    JOIN.command(),
    Command("LINK", link, access=ANYONE, help=False),
    Command("APPROVE", approve, access=FACILITATOR),
    Command("REJECT", reject, access=FACILITATOR),
]
FLOWS = {JOIN.name: JOIN}
