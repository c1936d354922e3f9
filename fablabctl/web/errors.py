"""Every error leaves the API as JSON `{code, message, detail}`: a stable code, the user's language.

Malformed JSON, wrong types, unknown routes, oversize bodies: all 4xx with a code, never a 500.
An unexpected exception still answers JSON (`INTERNAL_ERROR`) and is logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fablabctl.errors import FablabError
from fablabctl.i18n import Lang, Text, pick_lang
from fablabctl.web.input_errors import describe_error, field_name
from fablabctl.web.transactions import db_error

log = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    """The body of every error: a stable code, a message in the request's language, details."""

    code: str = Field(description="Stable error code, e.g. JOB_NOT_FOUND, DB_BUSY, UPLOAD_TOO_LARGE")
    message: str = Field(description="Plain-language message (French by default, English on request)")
    detail: Any = Field(default=None, description="Machine-readable details (fields, limits, ids)")


_ERROR_STATUSES = {
    400: "Requête illisible / unreadable request",
    401: "Connexion requise / not logged in",
    403: "Interdit pour ce rôle / forbidden for this role",
    404: "Introuvable / not found",
    408: "Corps de requête trop lent / request body too slow",
    409: "Conflit avec les données enregistrées / conflict",
    413: "Trop gros (requête, fichier ou quota) / too large",
    422: "Données invalides / invalid data",
    429: "Trop de tentatives / too many attempts",
    503: "Occupé, rien n'est enregistré : réessayer après Retry-After / busy, nothing saved",
    507: "Disque plein / storage full",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in _ERROR_STATUSES.items()
}

HTTP_TEXTS: dict[int, tuple[str, Text]] = {
    404: ("NOT_FOUND", Text("Adresse inconnue.", "Unknown address.")),
    405: ("METHOD_NOT_ALLOWED", Text("Méthode non autorisée ici.", "Method not allowed here.")),
    401: ("NOT_AUTHENTICATED", Text("Connexion requise.", "You must log in.")),
    403: ("FORBIDDEN", Text("Vous n'avez pas le droit de faire cela.", "You are not allowed to do this.")),
    413: ("BODY_TOO_LARGE", Text("Requête trop grosse.", "Request too large.")),
    400: ("BAD_REQUEST", Text("Requête illisible.", "Unreadable request.")),
}


def error_body(request: Request, code: str, message: Text, detail: Any = None) -> dict[str, Any]:
    lang = pick_lang(request.headers.get("accept-language"))
    return {"code": code, "message": message.in_(lang), "detail": detail}


def _validation_detail(exc: RequestValidationError, lang: Lang) -> tuple[str, Text, list[dict[str, Any]]]:
    """The 422 body: each problem's field, its explanation in the reader's language, pydantic's type."""
    problems = []
    code = "INVALID_INPUT"
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            code = "MALFORMED_JSON"
        problems.append(
            {
                "field": field_name(err.get("loc", ())),
                "problem": describe_error(err, lang),
                "type": err.get("type", ""),
            }
        )
    if code == "MALFORMED_JSON":
        return (
            code,
            Text("Le corps de la requête n'est pas du JSON valide.", "The request body is not valid JSON."),
            problems,
        )
    parts = "; ".join(f"{p['field']} ({p['problem']})" if p["field"] else p["problem"] for p in problems)
    return code, Text(f"Données invalides : {parts}.", f"Invalid data: {parts}."), problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FablabError)
    async def _fablab(request: Request, exc: FablabError) -> JSONResponse:
        headers = {}
        if "retry_after" in exc.detail:
            headers["Retry-After"] = str(exc.detail["retry_after"])
        return JSONResponse(
            error_body(request, exc.code, exc.message, exc.detail or None),
            status_code=exc.status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, problems = _validation_detail(exc, pick_lang(request.headers.get("accept-language")))
        return JSONResponse(error_body(request, code, message, problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = HTTP_TEXTS.get(
            exc.status_code, ("HTTP_ERROR", Text(str(exc.detail), str(exc.detail)))
        )
        return JSONResponse(
            error_body(request, code, message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(OverflowError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        mapped = db_error(exc)
        if mapped is None:
            return await _unexpected(request, exc)
        log.warning("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return await _fablab(request, mapped)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                request,
                "INTERNAL_ERROR",
                Text(
                    "Erreur interne : elle est enregistrée dans le journal du service.",
                    "Internal error: it is recorded in the service log.",
                ),
            ),
            status_code=500,
        )
