"""Server-side sessions: the bearer token stays on the server; the browser holds only a signed
session id in an HttpOnly, SameSite=Lax cookie. Every form post carries the session's CSRF token.

Sessions live in this process's memory: a restart of the console signs everyone out, and
several replicas would need a shared store (or sticky sessions)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from uuid import UUID

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from heze_console.openid import PendingSignIn, SignedIn
from heze_contracts.enums import Role

COOKIE = "heze_console_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Identity:
    """Who is signed in, as their token says."""

    token: str
    role: Role
    subject: str
    organisation_id: UUID | None
    organisation_name: str | None
    development: bool
    """Signed in through the development sign-in page (embedded mode only)."""
    provider: SignedIn | None = None
    """Signed in through OpenID Connect: the provider's tokens, renewed as they expire."""

    @property
    def trainee_id(self) -> str | None:
        """A trainee's id once registered: the services know a trainee by it (`sub`)."""
        if self.role is not Role.TRAINEE:
            return None
        try:
            return str(UUID(self.subject))
        except ValueError:
            return None  # a new account that has not registered yet


@dataclass
class Session:
    session_id: str
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    identity: Identity | None = None
    flash: str | None = None
    """A message to show once on the next page (after a redirect)."""
    pending_sign_in: PendingSignIn | None = None
    """An authorisation request sent to the identity provider, until its answer comes back."""
    registered_just_now: bool = False
    """A trainee registered in this session: one silent sign-in may fetch their new token."""
    renewal: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One renewal of the access token at a time (a refresh token is used once)."""
    touched: float = field(default_factory=time.monotonic)

    def take_flash(self) -> str | None:
        message, self.flash = self.flash, None
        return message


class SessionStore:
    def __init__(self, key: str, *, idle_seconds: float, capacity: int, secure_cookie: bool):
        self.signer = URLSafeSerializer(key, salt="heze-console-session")
        self.idle_seconds = idle_seconds
        self.capacity = capacity
        self.secure_cookie = secure_cookie
        self.sessions: OrderedDict[str, Session] = OrderedDict()

    def of(self, request: Request) -> Session | None:
        """The request's live session, if its cookie is genuine and the session not idle too long."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            session_id = self.signer.loads(cookie)
        except BadSignature:
            return None
        session = self.sessions.get(session_id)
        if session is None or time.monotonic() - session.touched > self.idle_seconds:
            self.sessions.pop(session_id, None)
            return None
        session.touched = time.monotonic()
        self.sessions.move_to_end(session_id)
        return session

    def begin(
        self,
        response: Response,
        identity: Identity | None = None,
        replacing: Session | None = None,
    ) -> Session:
        """A new session, with a new id: signing in never keeps the id a visitor had before
        (session fixation), and the session it replaces is forgotten."""
        if replacing is not None:
            self.sessions.pop(replacing.session_id, None)
        session = Session(secrets.token_urlsafe(32), identity=identity)
        if replacing is not None:
            session.flash = replacing.flash
        self.sessions[session.session_id] = session
        while len(self.sessions) > self.capacity:
            self.sessions.popitem(last=False)  # the longest idle goes first
        response.set_cookie(
            COOKIE,
            self.signer.dumps(session.session_id),
            httponly=True,
            samesite="lax",
            secure=self.secure_cookie,
            path="/",
        )
        return session

    def end(self, session: Session, response: Response) -> None:
        self.sessions.pop(session.session_id, None)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def csrf_valid(session: Session | None, submitted: str | None) -> bool:
    return (
        session is not None
        and submitted is not None
        and secrets.compare_digest(session.csrf_token, submitted)
    )
