"""Recognising mail that must never open a ticket or get an auto-reply: bounces, DSNs, auto-replies, bulk (pure)."""

from __future__ import annotations

import re

from pivotdesk.channels.domain.mime import ParsedEmail

BOUNCE = "bounce"
AUTO_REPLY = "auto_reply"
BULK = "bulk"
COMPLAINT = "complaint"
RECEIPT = "read_receipt"

_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?|mailerdaemon)@", re.IGNORECASE)
_BOUNCE_SUBJECTS = re.compile(
    r"(undeliver|delivery (status )?notification|delivery fail|failure notice|returned mail|mail delivery|"
    r"delivery has failed|could not be delivered|未能送达|退信|投递失败|系统退信|無法傳遞|邮件发送失败|delayed mail)",
    re.IGNORECASE,
)
_AUTO_SUBJECTS = re.compile(
    r"^(auto(matic)?[ -]?reply|autoreply|out of (the )?office|自动回复|自動回覆|休假|不在办公室|vacation|"
    r"abwesenheit|réponse automatique)",
    re.IGNORECASE,
)


def classify(mail: ParsedEmail) -> str | None:
    """The kind of machine-sent mail this is (bounce, auto_reply, bulk, complaint, read_receipt), or None for a
    mail a person wrote."""
    h = mail.headers
    ctype = h.get("content-type", "").lower()
    sender = mail.sender.email if mail.sender else ""
    if "report-type=feedback-report" in ctype.replace(" ", "") or "feedback-report" in ctype:
        return COMPLAINT
    if "report-type=disposition-notification" in ctype.replace(" ", "").replace('"', ""):
        return RECEIPT
    if "multipart/report" in ctype or "delivery-status" in ctype:
        return BOUNCE
    if "x-failed-recipients" in h or _BOUNCE_SENDERS.match(sender):
        return BOUNCE
    if h.get("return-path", "").strip() in ("<>", "") and "return-path" in h and _BOUNCE_SUBJECTS.search(mail.subject):
        return BOUNCE
    if _BOUNCE_SUBJECTS.search(mail.subject) and (not sender or _BOUNCE_SENDERS.match(sender)):
        return BOUNCE
    auto_submitted = h.get("auto-submitted", "").lower()
    if auto_submitted and auto_submitted != "no":
        return AUTO_REPLY
    if "x-autoreply" in h or "x-autorespond" in h:
        return AUTO_REPLY
    if h.get("x-auto-response-suppress", "").lower() in ("all", "oof"):
        return AUTO_REPLY
    if _AUTO_SUBJECTS.search(mail.subject):
        return AUTO_REPLY
    precedence = h.get("precedence", "").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return AUTO_REPLY if precedence == "auto_reply" else BULK
    if "list-id" in h or "list-unsubscribe" in h:
        return BULK
    return None
