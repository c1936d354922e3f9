"""OctoPrint's REST API over httpx: every HTTP or transport failure becomes a `MachineError` with
a stable code and a FR/EN message that says what happened in plain words (never empty)."""

from __future__ import annotations

from typing import Any

import httpx

from fablabctl.i18n import Text
from fablabctl.machines.base import MachineBusy, MachineError, MachineOffline, MachineRefused, MachineTimeout

# httpx's transport errors in plain words (their own text is often empty: "Network error: ")
NETWORK_WORDS: list[tuple[type[httpx.HTTPError], str, str]] = [
    (httpx.ConnectError, "connexion impossible (serveur arrêté ?)", "cannot connect (server down?)"),
    (
        httpx.RemoteProtocolError,
        "OctoPrint a coupé la connexion sans répondre",
        "OctoPrint closed the connection without answering",
    ),
    (
        httpx.ReadError,
        "la connexion a été coupée pendant la réponse",
        "the connection broke during the answer",
    ),
    (httpx.WriteError, "la connexion a été coupée pendant l'envoi", "the connection broke while sending"),
    (
        httpx.UnsupportedProtocol,
        "adresse invalide (http:// ou https:// attendu)",
        "invalid address (http:// or https:// expected)",
    ),
    (httpx.ProxyError, "erreur du proxy", "proxy error"),
    (httpx.DecodingError, "réponse illisible", "unreadable answer"),
    (httpx.TooManyRedirects, "trop de redirections", "too many redirects"),
]


def network_error(exc: Exception) -> tuple[str, str]:
    """(fr, en) saying what went wrong on the wire: never empty, never a traceback."""
    fr, en = next(
        ((fr, en) for kind, fr, en in NETWORK_WORDS if isinstance(exc, kind)),
        ("erreur de transport", "transport error"),
    )
    return f"{fr} [{type(exc).__name__}]", f"{en} [{type(exc).__name__}]"


class OctoPrintHttp:
    def __init__(self, url: str, api_key: str, *, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.AsyncClient(base_url=self.url, headers={"X-Api-Key": api_key}, timeout=timeout)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.client.is_closed:
            raise MachineOffline(
                Text(
                    "La connexion à OctoPrint est fermée (machine déconnectée par le service).",
                    "The connection to OctoPrint is closed (machine disconnected by the service).",
                )
            )
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise MachineOffline(
                Text(
                    f"OctoPrint injoignable ({self.url}) : connexion refusée ou impossible.",
                    f"OctoPrint unreachable ({self.url}): connection refused or impossible.",
                )
            ) from None
        except httpx.TimeoutException:
            raise MachineTimeout(
                Text(
                    f"OctoPrint ne répond pas à temps ({self.url}).",
                    f"OctoPrint answers too slowly ({self.url}).",
                )
            ) from None
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            fr, en = network_error(exc)
            raise MachineOffline(
                Text(
                    f"Erreur réseau avec OctoPrint ({self.url}) : {fr}.",
                    f"Network error with OctoPrint ({self.url}): {en}.",
                )
            ) from None
        if response.status_code in (401, 403):
            raise MachineRefused(
                Text(
                    "Clé d'API OctoPrint refusée : vérifiez-la dans la fiche machine.",
                    "OctoPrint refused the API key: check it in the machine's settings.",
                ),
                code="OCTOPRINT_BAD_KEY",
            )
        if response.status_code == 409:
            raise MachineBusy(
                Text(
                    f"OctoPrint refuse : imprimante non opérationnelle ou occupée ({response.text[:120]}).",
                    f"OctoPrint refuses: printer not operational or busy ({response.text[:120]}).",
                ),
                code="OCTOPRINT_NOT_OPERATIONAL",
            )
        if response.status_code >= 400:
            raise MachineError(
                Text(
                    f"OctoPrint a répondu {response.status_code} : {response.text[:200]}",
                    f"OctoPrint answered {response.status_code}: {response.text[:200]}",
                ),
                code="OCTOPRINT_ERROR",
            )
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.request(method, path, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise MachineError(
                Text(
                    f"OctoPrint a envoyé une réponse illisible pour {path}.",
                    f"OctoPrint sent an unreadable answer for {path}.",
                ),
                code="OCTOPRINT_BAD_ANSWER",
            )
        return data

    async def aclose(self) -> None:
        await self.client.aclose()
