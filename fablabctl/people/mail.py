"""E-mail to the referent when an SMTP server is configured (FABLAB_SMTP_HOST); optional, never blocking.

The address is taken from the enrolment's referent contact. A failure is returned as a short
message stored on the notice (and shown to the trainer), never raised: the notice stays listed
and exportable either way.
"""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage

from fablabctl.config import Settings
from fablabctl.people.attendance_schemas import NoticeOut

log = logging.getLogger(__name__)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def referent_address(contact: str) -> str | None:
    match = ADDRESS.search(contact)
    return match.group(0) if match else None


def notice_message(settings: Settings, notice: NoticeOut, cohort_name: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = f"Absence non excusée – {notice.display_name} – {notice.day:%d/%m/%Y}"
    message.set_content(
        f"Bonjour,\n\n{settings.structure_name} vous informe d'une absence non excusée :\n\n"
        f"  Personne : {notice.display_name}\n"
        f"  Session : {cohort_name}\n"
        f"  Date : {notice.day:%d/%m/%Y}, de {notice.starts_at:%H:%M} à {notice.ends_at:%H:%M}\n\n"
        "Cordialement,\nL'équipe de formation\n"
    )
    return message


def send_notice(settings: Settings, notice: NoticeOut, cohort_name: str) -> str | None:
    """Send one notice; None when sent, else a short French reason."""
    to = referent_address(notice.referent_contact)
    if to is None:
        return "pas d'adresse e-mail dans le contact du référent"
    message = notice_message(settings, notice, cohort_name, to)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notice e-mail not sent: %s", exc)
        return "serveur de messagerie injoignable ou refus"
    return None
