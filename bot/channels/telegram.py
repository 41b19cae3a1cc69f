"""Telegram: updates in (webhook or polling), Bot API sends out, choices as inline buttons."""

from __future__ import annotations

from bot.engine import Inbound


def inbound_from_update(data: dict) -> Inbound | None:
    """An engine Inbound from a Telegram Update: a text, a button press, or a shared contact."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    update_id = str(data["update_id"])
    message = data.get("message") or data.get("edited_message")
    if isinstance(message, dict):
        chat = message.get("chat") or {}
        if not isinstance(chat, dict) or "id" not in chat:
            return None
        contact = message.get("contact") if isinstance(message.get("contact"), dict) else None
        sender = message.get("from") or {}
        phone = ""
        if contact and contact.get("user_id") == sender.get("id"):
            phone = str(contact.get("phone_number", ""))
            if phone and not phone.startswith("+"):
                phone = "+" + phone
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        return Inbound(channel="telegram", address=str(chat["id"]), text=text, provider_id=update_id,
                       contact_phone=phone)
    query = data.get("callback_query")
    if isinstance(query, dict):
        chat = ((query.get("message") or {}).get("chat") or {})
        chat_id = chat.get("id") or (query.get("from") or {}).get("id")
        if chat_id is None:
            return None
        return Inbound(channel="telegram", address=str(chat_id), text=str(query.get("data", ""))[:64],
                       provider_id=update_id)
    return None
