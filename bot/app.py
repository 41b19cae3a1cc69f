"""The ASGI app: provider webhooks, the simulator, health, and the dashboard."""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
import json
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot import dashboard, webbody
from bot import engine as bot_engine
from bot.channels import africastalking, simulator, telegram, twilio_sms, ussd
from bot.config import UNSAFE_SIMULATOR, Settings
from bot.dispatch import silence_address
from storage.db import make_engine, session_scope
from storage.glossary import GlossaryIndex
from storage.members import normalise_phone
from storage.messages import InboundMessage, OutboundMessage, mark_status

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_BODY = 64 * 1024
HISTORY = 200  # messages of a simulated phone shown again after a reload
USSD_TEXT = 2000  # the answers of one simulated USSD session, joined by `*`, at most
USSD_SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


class _GroupCommit:
    """Group commit on SQLite: the messages whose webhooks reach the engine in one turn of the event loop are
    taken into one transaction (bot.engine.Batch) and committed together once the loop has run what was
    ready, so no message waits for a timer: alone, a message commits as soon as it is taken; under load,
    each COMMIT serves the requests that arrived meanwhile (at most MAX). Every request is answered only
    after the COMMIT that holds its message. Runs on the loop's thread only (see EngineWork)."""

    MAX = 32

    def __init__(self, db: Engine):
        self.db = db
        self.batch: bot_engine.Batch | None = None
        self.waiting: list[tuple[int, asyncio.Future]] = []

    async def receive(self, settings: Settings, inbound: bot_engine.Inbound, **options) -> bot_engine.Outcome:
        loop = asyncio.get_running_loop()
        if self.batch is None:
            self.batch = bot_engine.Batch(self.db)
            loop.call_soon(self.flush, self.batch)
        index = self.batch.take(settings, inbound, **options)
        answer = loop.create_future()
        self.waiting.append((index, answer))
        if len(self.waiting) >= self.MAX:
            self.flush()
        result = await answer
        if isinstance(result, Exception):
            raise result
        return result

    def flush(self, batch: bot_engine.Batch | None = None) -> None:
        """Commit the open batch (only `batch`, when given: a later one waits for its own turn)."""
        if self.batch is None or (batch is not None and batch is not self.batch):
            return
        batch, waiting = self.batch, self.waiting
        self.batch, self.waiting = None, []
        try:
            results = batch.commit()
        except Exception as exc:  # never leave a request waiting (Batch.commit itself takes failures alone)
            log.exception("a batch of messages could not be committed")
            results = [exc] * len(batch.results)
        for index, answer in waiting:
            if not answer.done():  # a request cancelled meanwhile (its client left): its message stays taken
                answer.set_result(results[index])


class EngineWork:
    """Where a webhook's database work runs. On SQLite on the event loop's own thread: its writes take turns
    at one writer anyway, and from a worker thread it traded the GIL with the loop at every SQLite call
    (about 20 context switches a message under 8 connections, a fifth of the CPU, and p99 doubled:
    README, Performance); messages go through group commit (_GroupCommit). On PostgreSQL in a worker
    thread, the loop free while the server works. The pages (dashboard, simulator reads, healthz) keep
    their worker threads."""

    def __init__(self, db: Engine):
        self.db = db
        self.batches = _GroupCommit(db) if db.dialect.name == "sqlite" else None

    async def run(self, work, *args, **kwargs):
        """Any other engine work (a status callback, a USSD screen). On SQLite the open batch is committed
        first: this thread holds the writer for it, and work on another connection would wait for that lock."""
        if self.batches is not None:
            self.batches.flush()
            return work(*args, **kwargs)
        return await run_in_threadpool(work, *args, **kwargs)

    async def receive(self, settings: Settings, inbound: bot_engine.Inbound, **options) -> bot_engine.Outcome:
        """One message (bot.engine.receive's options): in the loop's open batch on SQLite, alone in a worker
        thread on PostgreSQL."""
        if self.batches is not None:
            return await self.batches.receive(settings, inbound, **options)
        return await run_in_threadpool(bot_engine.receive, self.db, settings, inbound, **options)


def create_app(settings: Settings, db: Engine | None = None, workers=None) -> Starlette:
    """`workers` (a callable returning a stop function) starts the dispatcher and scheduler with the app."""
    db = db or make_engine(settings.database_url)
    glossary = GlossaryIndex()  # one per process, beside the engine: handlers get it in their Ctx

    @asynccontextmanager
    async def lifespan(app):
        stop = workers(app) if workers else None
        try:
            yield
        finally:
            if stop:  # joins worker threads and closes transports: not on the event loop
                await run_in_threadpool(stop)

    engine_work = EngineWork(db)
    in_engine = engine_work.run

    async def take(inbound: bot_engine.Inbound, reply_status: str) -> bot_engine.Outcome:
        return await engine_work.receive(settings, inbound, reply_status=reply_status, glossary=glossary)

    def wake_dispatcher(request: Request) -> None:
        dispatcher = request.app.state.dispatcher
        if dispatcher is not None:
            dispatcher.wake.set()

    async def signed_form(request: Request) -> dict[str, str] | Response:
        """The form Twilio posted, or the 400/403 answer when it is too large, malformed or wrongly signed.

        The size is checked first (by Content-Length, then while reading), before the signature."""
        try:
            form = await webbody.read_form(request, MAX_BODY)
        except webbody.BodyTooLarge:
            return Response("request too large", status_code=400)
        if form is None:
            return Response("malformed form", status_code=400)
        url = twilio_sms.public_url(settings, request.url.path, request.url.query)
        if not twilio_sms.signature_ok(settings, url, form, request.headers.get("X-Twilio-Signature")):
            return Response("invalid signature", status_code=403)
        return form

    async def twilio_sms_webhook(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        inbound = twilio_sms.inbound_from_form(form, settings)
        if inbound is None:
            return Response("missing From or MessageSid", status_code=400)
        outcome = await take(inbound, "sent")
        wake_dispatcher(request)
        return Response(twilio_sms.twiml([r.text for r in outcome.replies]), media_type="application/xml")

    async def twilio_status_webhook(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or status not in twilio_sms.STATUS_MAP:
            return Response("missing MessageSid or unknown MessageStatus", status_code=400)
        code = form.get("ErrorCode", "")

        def apply() -> None:
            with session_scope(db) as session:
                msg = mark_status(session, sid, twilio_sms.STATUS_MAP[status],
                                  f"twilio {status} {code}".strip() if code else "")
                if msg is not None and code.isdecimal() and int(code) in twilio_sms.SILENCE_CODES:
                    silence_address(session, msg, f"twilio {code}")

        await in_engine(apply)
        return Response(status_code=204)

    async def keyed_form(request: Request) -> dict[str, str] | Response:
        """The form Africa's Talking posted, or the 403/400 answer when its ?key= is wrong or missing (AT does
        not sign) or the body is too large or malformed."""
        if not africastalking.key_ok(settings, request):
            return Response("forbidden", status_code=403)
        try:
            form = await webbody.read_form(request, MAX_BODY)
        except webbody.BodyTooLarge:
            return Response("request too large", status_code=400)
        if form is None:
            return Response("malformed form", status_code=400)
        return form

    async def at_sms_webhook(request: Request) -> Response:
        """AT takes no reply in the answer: the replies are queued and the dispatcher sends them at once."""
        form = await keyed_form(request)
        if isinstance(form, Response):
            return form
        inbound = africastalking.inbound_from_form(form, settings)
        if inbound is None:
            return Response("missing from or id", status_code=400)
        await take(inbound, "queued")
        wake_dispatcher(request)
        return Response(status_code=200)

    async def at_delivery_webhook(request: Request) -> Response:
        form = await keyed_form(request)
        if isinstance(form, Response):
            return form
        message_id, status = form.get("id", ""), form.get("status", "")
        if not message_id or status not in africastalking.STATUS_MAP:
            return Response("missing id or unknown status", status_code=400)
        reason = form.get("failureReason", "").strip()

        def apply() -> None:
            with session_scope(db) as session:
                msg = mark_status(session, message_id, africastalking.STATUS_MAP[status],
                                  f"africastalking {status} {reason}".strip() if reason else "")
                if msg is not None and msg.status == "failed" and africastalking.silences(reason):
                    silence_address(session, msg, f"africastalking {reason}")

        await in_engine(apply)
        return Response(status_code=200)

    async def at_ussd_webhook(request: Request) -> Response:
        """One USSD screen, answered in the response as text/plain: "CON ..." (an answer awaited) or "END ..."."""
        form = await keyed_form(request)
        if isinstance(form, Response):
            return form
        dial = ussd.dial_from_form(form, settings)
        if dial is None:
            return Response("missing sessionId or phoneNumber", status_code=400)
        screen = await in_engine(ussd.respond, db, settings, dial, glossary=glossary)
        wake_dispatcher(request)  # a receipt by SMS may be waiting
        return Response(screen, media_type="text/plain; charset=utf-8")

    async def at_ussd_end_webhook(request: Request) -> Response:
        """The end-of-session notification: how the session ended and what it cost."""
        form = await keyed_form(request)
        if isinstance(form, Response):
            return form
        if not await in_engine(ussd.end_from_form, db, form, settings):
            return Response("missing sessionId", status_code=400)
        return Response(status_code=200)

    async def telegram_webhook(request: Request) -> Response:
        secret = settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not settings.telegram_enabled or not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response("forbidden", status_code=403)
        try:
            data = json.loads(await webbody.read_body(request, MAX_BODY))
        except webbody.BodyTooLarge:
            return Response("too large", status_code=413)
        except (ValueError, RecursionError):
            return Response("malformed JSON", status_code=400)
        inbound = telegram.inbound_from_update(data)
        if inbound is not None:
            await take(inbound, "queued")
            wake_dispatcher(request)
        return JSONResponse(telegram.webhook_answer(data))

    if settings.simulator_refused:
        log.warning("the simulator stays off: a real provider is configured and anyone reaching /simulate "
                    "could act as any phone; set SIMULATOR=%s to keep it on anyway", UNSAFE_SIMULATOR)
    elif settings.simulator and (settings.real_sms or settings.telegram_enabled):
        log.warning("SIMULATOR=%s: the simulator is on beside a real provider", UNSAFE_SIMULATOR)

    def simulator_allowed(request: Request) -> bool:
        """Only with the simulator on, only from the loopback address itself: a request that came through
        a proxy (any forwarding header, whoever added it) is not local, whatever it says it came from."""
        if not settings.simulator or request.client is None:
            return False
        if any(h in request.headers for h in FORWARDING_HEADERS):
            return False
        try:
            return ipaddress.ip_address(request.client.host).is_loopback
        except ValueError:
            return request.client.host in ("testclient", "localhost")

    async def simulate(request: Request) -> Response:
        if not simulator_allowed(request):
            return Response("not found", status_code=404)
        try:
            data = json.loads(await webbody.read_body(request, MAX_BODY))
            sender, body = str(data["from"]), str(data.get("text", ""))
        except webbody.BodyTooLarge:
            return JSONResponse({"error": "request too large"}, status_code=413)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send JSON {"from": "+255712000001", "text": "JOIN"}'},
                                status_code=400)
        phone = normalise_phone(sender, settings.default_region)
        if phone is None:
            return JSONResponse({"error": "from must be a valid phone number"}, status_code=400)
        inbound = bot_engine.Inbound(channel="sms", address=phone, text=body[:64 * 1024],
                                     provider_id=simulator.provider_id(), provider="simulator")
        outcome = await take(inbound, "sent")
        return JSONResponse({"replies": [r.text for r in outcome.replies], "from": phone})

    async def simulate_ussd(request: Request) -> Response:
        """One USSD screen of a simulated handset: {"screen": ..., "end": ...}. The page (or a script) keeps the
        session id and sends every answer so far joined by `*`, as a gateway does; simulated sessions are kept
        apart from the gateway's (their ids are prefixed), so the simulator never reads a real session."""
        if not simulator_allowed(request):
            return Response("not found", status_code=404)
        try:
            if "json" in request.headers.get("content-type", ""):
                data = json.loads(await webbody.read_body(request, MAX_BODY))
            else:
                data = await webbody.read_form(request, MAX_BODY)
            sender, session_id = str(data["phone"]), str(data["session"]).strip()
            answers = str(data.get("text") or "")
        except webbody.BodyTooLarge:
            return JSONResponse({"error": "request too large"}, status_code=413)
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": 'send {"phone": "+255712000001", "session": "s1", "text": "1*5000"}'},
                                status_code=400)
        phone = normalise_phone(sender, settings.default_region)
        if phone is None:
            return JSONResponse({"error": "phone must be a valid phone number"}, status_code=400)
        if not USSD_SESSION.fullmatch(session_id):
            return JSONResponse({"error": "session must be 1 to 64 letters, digits, - or _"}, status_code=400)
        if len(answers) > USSD_TEXT:
            return JSONResponse({"error": f"text must be at most {USSD_TEXT} characters"}, status_code=400)
        dial = ussd.Dial(session_id="sim-" + session_id, phone=phone, text=answers,
                         service_code=settings.ussd_service_code or simulator.SERVICE_CODE, network_code="simulator")
        screen = await in_engine(ussd.respond, db, settings, dial, glossary=glossary)
        wake_dispatcher(request)  # a receipt by SMS may be waiting; the page's inbox poll shows it
        return JSONResponse({"screen": screen[4:], "end": screen.startswith("END")})

    async def simulator_inbox(request: Request) -> Response:
        """Messages the bot sent to a simulated phone on its own (approvals, reminders, broadcasts)."""
        if not simulator_allowed(request):
            return Response("not found", status_code=404)
        phone = normalise_phone(request.query_params.get("phone", ""), settings.default_region)
        after = request.query_params.get("after", "0")
        if phone is None or not after.isdecimal():
            return JSONResponse({"error": "phone and after (a message id) expected"}, status_code=400)

        def fetch() -> list[dict]:
            with session_scope(db) as session:
                stmt = select(OutboundMessage).where(
                    OutboundMessage.channel == "sms", OutboundMessage.address == phone,
                    OutboundMessage.inbound_id == None,  # noqa: E711
                    OutboundMessage.kind != dashboard.LOGIN_KIND,  # never a login code: that is the dashboard
                    OutboundMessage.id > int(after))
                if settings.real_sms:  # with a real provider, show only what was handed to it
                    stmt = stmt.where(OutboundMessage.status != "queued")
                rows = session.exec(stmt.order_by(OutboundMessage.id).limit(50))
                return [{"id": r.id, "text": r.text} for r in rows]

        return JSONResponse({"messages": await run_in_threadpool(fetch)})

    async def simulator_history(request: Request) -> Response:
        """The conversation of a simulated phone so far (its messages, the replies and the notices), so the
        page shows it again after a reload; `last_id` is where the inbox poll carries on."""
        if not simulator_allowed(request):
            return Response("not found", status_code=404)
        phone = normalise_phone(request.query_params.get("phone", ""), settings.default_region)
        if phone is None:
            return JSONResponse({"error": "phone expected"}, status_code=400)

        def fetch() -> dict:
            with session_scope(db) as session:
                # USSD answers and screens are not SMS: a session's pop-ups are not shown again in the log
                sent = list(session.exec(select(InboundMessage).where(
                    InboundMessage.channel == "sms", InboundMessage.address == phone,
                    InboundMessage.provider_id.not_like(f"{ussd.PROVIDER}-%"))
                    .order_by(InboundMessage.id.desc()).limit(HISTORY)))
                stmt = select(OutboundMessage).where(
                    OutboundMessage.channel == "sms", OutboundMessage.address == phone,
                    OutboundMessage.provider != ussd.PROVIDER,
                    OutboundMessage.kind != dashboard.LOGIN_KIND)  # never a login code
                if settings.real_sms:
                    stmt = stmt.where((OutboundMessage.inbound_id != None)  # noqa: E711
                                      | (OutboundMessage.status != "queued"))
                got = list(session.exec(stmt.order_by(OutboundMessage.id.desc()).limit(HISTORY)))
                last_id = max([m.id for m in got if m.inbound_id is None] or [0])
                rows = [(m.received_at, 0, m.id, "me", m.text) for m in sent]
                rows += [(m.created_at, 1, m.id, "bot", m.text) for m in got]
                rows.sort(key=lambda r: (r[0], r[1], r[2]))
                return {"messages": [{"who": who, "text": text} for *_k, who, text in rows[-HISTORY:]],
                        "last_id": last_id}

        return JSONResponse(await run_in_threadpool(fetch))

    async def home(request: Request) -> Response:
        if not simulator_allowed(request):
            return HTMLResponse("<h1>clusterbot</h1><p>The simulator is off.</p>")
        page = (STATIC / "simulator.html").read_text(encoding="utf-8")
        code = html.escape(settings.ussd_service_code or simulator.SERVICE_CODE)
        return HTMLResponse(page.replace("{{ussd_service_code}}", code))

    async def healthz(request: Request) -> Response:
        def ping() -> None:
            with db.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    # pages and their data go out compressed (a slow connection); the providers' webhooks answer a few
    # hundred bytes and are the hot path: no compression layer around them
    pages = [
        Route("/", home),
        Route("/simulate", simulate, methods=["POST"]),
        Route("/simulate/ussd", simulate_ussd, methods=["POST"]),
        Route("/simulate/inbox", simulator_inbox),
        Route("/simulate/history", simulator_history),
        *dashboard.routes(settings, db),
    ]
    for page in pages:
        page.app = GZipMiddleware(page.app, minimum_size=1000)
    routes = [
        Route("/healthz", healthz),
        Route("/webhooks/twilio/sms", twilio_sms_webhook, methods=["POST"]),
        Route("/webhooks/twilio/status", twilio_status_webhook, methods=["POST"]),
        Route(africastalking.SMS_PATH, at_sms_webhook, methods=["POST"]),
        Route(africastalking.DELIVERY_PATH, at_delivery_webhook, methods=["POST"]),
        Route(ussd.PATH, at_ussd_webhook, methods=["POST"]),
        Route(ussd.END_PATH, at_ussd_end_webhook, methods=["POST"]),
        Route("/webhooks/telegram", telegram_webhook, methods=["POST"]),
        *pages,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.db = db
    app.state.dispatcher = None  # `serve` puts its dispatcher here; read on every webhook (a miss raises inside)
    app.state.settings = settings
    return app
