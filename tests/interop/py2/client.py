"""warden checks with the Python MCP SDK 2.x (PyPI `mcp`, pinned in requirements.txt).

    python py2/client.py CHECK       exit 0 on success; else one reason line on stderr, exit 1

The SDK's `mcp.Client` runs in its default mode (`mode="auto"`): it probes `server/discover`
at the newest protocol version and, when the server answers, speaks 2026-07-28 (no
`initialize`, no session; every request carries its protocol version). Both checks assert
that this is what happened, so a silent fallback to the initialize handshake fails them.

Environment: MCP_RESOURCE (the MCP URL), IOP_AS_ISSUER (the AS issuer), IOP_CC_CLIENT_ID
(the client-credentials client, also the expected `sub`), IOP_TOKEN (bearer-tools-list-whoami:
a client-credentials JWT for MCP_RESOURCE with `news:read profile`), IOP_CC_CLIENT_SECRET
(oauth-client-credentials-whoami). Reasons never contain tokens or secrets.

Checks:
  bearer-tools-list-whoami        streamable HTTP with an `Authorization: Bearer` header on the
                                  httpx2 client: discover, tools/list, tools/call whoami
                                  (sub, client_id, issuer, audiences, scopes checked)
  oauth-client-credentials-whoami the SDK's ClientCredentialsOAuthProvider from a bare 401:
                                  WWW-Authenticate resource_metadata → PRM → AS metadata →
                                  client_credentials token (with `resource` and the 401's
                                  `scope`) → the discover probe retried; then tools/call whoami
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx2
from mcp import Client
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

MCP_URL = os.environ.get("MCP_RESOURCE", "http://127.0.0.1:10000/mcp")
MODERN_VERSION = "2026-07-28"


class CheckFailed(Exception):
    """A failed expectation; the message is the one-line reason."""


def expect(cond: bool, why: str) -> None:
    if not cond:
        raise CheckFailed(why)


def env(name: str) -> str:
    value = os.environ.get(name)
    expect(bool(value), f"{name} is not set")
    return value  # type: ignore[return-value]


# --- HTTP recorder ---------------------------------------------------------------------------


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    rpc_method: str | None = None  # JSON-RPC method of a POST to the MCP URL
    rpc_name: str | None = None  # params.name (tools/call)
    meta_version: str | None = None  # params._meta["io.modelcontextprotocol/protocolVersion"]
    form: dict[str, str] = field(default_factory=dict)  # form body (token requests)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    def brief(self) -> str:
        what = self.rpc_method or self.form.get("grant_type") or ""
        return f"{self.method} {self.url}{f' ({what})' if what else ''} → {self.status}"


class Recorder:
    """httpx2 event hooks: every request the client sends (auth-flow requests included)."""

    def __init__(self) -> None:
        self.log: list[Exchange] = []
        self._pending: dict[int, Exchange] = {}

    async def on_request(self, request: httpx2.Request) -> None:
        ex = Exchange(
            method=request.method,
            url=str(request.url),
            request_headers={k.lower(): v for k, v in request.headers.items()},
        )
        body = b""
        try:
            body = request.content
        except Exception:  # a streaming body: not ours to read
            pass
        ctype = ex.request_headers.get("content-type", "")
        if body and ctype.startswith("application/json"):
            try:
                parsed = json.loads(body)
                if isinstance(parsed, dict):
                    ex.rpc_method = parsed.get("method")
                    params = parsed.get("params") or {}
                    ex.rpc_name = params.get("name")
                    ex.meta_version = (params.get("_meta") or {}).get("io.modelcontextprotocol/protocolVersion")
            except ValueError:
                pass
        elif body and ctype.startswith("application/x-www-form-urlencoded"):
            ex.form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.log.append(ex)
        self._pending[id(request)] = ex

    async def on_response(self, response: httpx2.Response) -> None:
        ex = self._pending.pop(id(response.request), None)
        if ex is not None:
            ex.status = response.status_code
            ex.response_headers = {k.lower(): v for k, v in response.headers.items()}

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def steps(self) -> str:
        return ", ".join(e.brief() for e in self.log)

    def mcp_posts(self) -> list[Exchange]:
        return [e for e in self.log if e.method == "POST" and e.url == MCP_URL]


def trace(recorder: Recorder) -> None:
    """With IOP_TRACE=1, the exchanges (method, URL, JSON-RPC method, status; no headers) on stderr."""
    if os.environ.get("IOP_TRACE") == "1":
        for e in recorder.log:
            print(f"# {e.brief()}", file=sys.stderr)


def http_client(recorder: Recorder, **kwargs: Any) -> httpx2.AsyncClient:
    # The SDK's default timeouts (create_mcp_http_client), with the recorder's hooks.
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(30.0, read=300.0), event_hooks=recorder.hooks(), **kwargs
    )


# --- shared expectations ---------------------------------------------------------------------


def expect_modern(client: Client, rec: Recorder) -> None:
    """Default mode negotiated 2026-07-28 through server/discover; no initialize, no session.

    Every MCP POST is self-contained the 2026-07-28 way: `MCP-Protocol-Version` header and
    `_meta` protocolVersion both 2026-07-28, `Mcp-Method` = the method and, for tools/call,
    `Mcp-Name` = the tool (SEP-2243). Such tools/list and tools/call requests are the ones
    warden's stateless fast path answers itself (its "negotiated lane"), so the
    `python2-stateless:` block exercises the fast path and `…-no-fast-path:` rmcp.
    """
    expect(
        client.protocol_version == MODERN_VERSION,
        f"negotiated protocol {client.protocol_version!r}, want {MODERN_VERSION} via server/discover "
        f"(requests: {rec.steps()})",
    )
    posts = rec.mcp_posts()
    expect(bool(posts) and posts[0].rpc_method == "server/discover",
           f"the first MCP request was not server/discover: {rec.steps()}")
    expect(
        not any(p.rpc_method in ("initialize", "notifications/initialized") for p in posts),
        f"the client fell back to the initialize handshake: {rec.steps()}",
    )
    for p in posts:
        v = p.request_headers.get("mcp-protocol-version")
        expect(v == MODERN_VERSION, f"{p.rpc_method} sent MCP-Protocol-Version {v!r}, want {MODERN_VERSION}")
        expect(p.meta_version == MODERN_VERSION, f"{p.rpc_method} sent _meta protocolVersion {p.meta_version!r}")
        m = p.request_headers.get("mcp-method")
        expect(m == p.rpc_method, f"{p.rpc_method} sent Mcp-Method {m!r}")
        if p.rpc_method == "tools/call":
            n = p.request_headers.get("mcp-name")
            expect(n == p.rpc_name, f"tools/call {p.rpc_name!r} sent Mcp-Name {n!r}")
        expect("mcp-session-id" not in p.request_headers, f"{p.rpc_method} carried an Mcp-Session-Id")


async def expect_tools_listed(client: Client) -> None:
    listed = await client.list_tools()
    names = sorted(t.name for t in listed.tools)
    for want in ("whoami", "news_sentiment"):
        expect(want in names, f"tools/list gave {names}, lacks {want}")


async def expect_whoami(client: Client, *, client_id: str, issuer: str, scopes: set[str]) -> dict[str, Any]:
    me = await client.call_tool("whoami", {})
    expect(not me.is_error, f"whoami returned isError: {str(me.content)[:200]}")
    sc = me.structured_content or {}
    expect(sc.get("sub") == client_id, f"whoami sub {sc.get('sub')!r}, want {client_id!r}")
    expect(sc.get("client_id") == client_id, f"whoami client_id {sc.get('client_id')!r}, want {client_id!r}")
    expect(sc.get("issuer") == issuer, f"whoami issuer {sc.get('issuer')!r}, want {issuer!r}")
    expect(MCP_URL in (sc.get("audiences") or []), f"whoami audiences {sc.get('audiences')!r} lack {MCP_URL}")
    got = sc.get("scopes")
    expect(isinstance(got, list) and set(got) == scopes,
           f"whoami scopes {got!r}, want {sorted(scopes)}")
    return sc


# --- checks ----------------------------------------------------------------------------------


async def bearer_tools_list_whoami() -> None:
    token = env("IOP_TOKEN")
    rec = Recorder()
    async with http_client(rec, headers={"Authorization": f"Bearer {token}"}) as hc:
        async with Client(streamable_http_client(MCP_URL, http_client=hc)) as client:
            expect_modern(client, rec)
            await expect_tools_listed(client)
            await expect_whoami(
                client,
                client_id=env("IOP_CC_CLIENT_ID"),
                issuer=env("IOP_AS_ISSUER"),
                scopes={"news:read", "profile"},
            )
            expect_modern(client, rec)  # tools/list and tools/call went out the same way
            trace(rec)


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def challenge_param(header: str, name: str) -> str | None:
    m = re.search(rf'(?:^|[\s,]){re.escape(name)}="([^"]*)"', header)
    return m.group(1) if m else None


async def oauth_client_credentials_whoami() -> None:
    client_id, issuer = env("IOP_CC_CLIENT_ID"), env("IOP_AS_ISSUER")
    storage = MemoryStorage()
    auth = ClientCredentialsOAuthProvider(
        server_url=MCP_URL,
        storage=storage,
        client_id=client_id,
        client_secret=env("IOP_CC_CLIENT_SECRET"),
        issuer=issuer,
    )
    rec = Recorder()
    async with http_client(rec, auth=auth) as hc:
        async with Client(streamable_http_client(MCP_URL, http_client=hc)) as client:
            log, steps = rec.log, rec.steps()
            # 1. the discover probe without a token → 401 with resource_metadata (and scope)
            first = log[0] if log else None
            expect(
                first is not None and first.method == "POST" and first.url == MCP_URL
                and first.rpc_method == "server/discover" and first.status == 401,
                f"the first request was not a 401 server/discover POST: {steps}",
            )
            expect("authorization" not in first.request_headers, "the first request already carried a token")
            challenge = first.response_headers.get("www-authenticate", "")
            prm_url = challenge_param(challenge, "resource_metadata")
            expect(prm_url is not None, f"401 without resource_metadata: {challenge[:200]!r}")
            challenged_scope = challenge_param(challenge, "scope")
            # 2. PRM fetched from the URL the challenge named
            prm = next((i for i, e in enumerate(log) if e.method == "GET" and e.url == prm_url), -1)
            expect(prm > 0 and log[prm].status == 200, f"no 200 PRM fetch of {prm_url}: {steps}")
            # 3. AS metadata (RFC 8414 / OIDC discovery) below the issuer
            as_meta = next(
                (
                    i for i, e in enumerate(log)
                    if i > prm and e.method == "GET" and e.status == 200
                    and re.search(r"/\.well-known/(oauth-authorization-server|openid-configuration)", e.url)
                ),
                -1,
            )
            expect(as_meta > prm, f"no AS metadata fetch after the PRM: {steps}")
            expect(log[as_meta].url.startswith(issuer), f"AS metadata from {log[as_meta].url}, not below {issuer}")
            # 4. client_credentials at the AS token endpoint, with resource and the challenged scope
            tok = next((i for i, e in enumerate(log) if i > as_meta and e.form.get("grant_type") == "client_credentials"), -1)
            expect(tok > as_meta, f"no client_credentials token request after the AS metadata: {steps}")
            t = log[tok]
            expect(t.url.startswith(issuer), f"token request to {t.url}, not the AS {issuer}")
            expect(t.status == 200, f"token endpoint HTTP {t.status}")
            expect(t.form.get("resource") == MCP_URL, f"token request resource {t.form.get('resource')!r}, want {MCP_URL!r}")
            expect(
                challenged_scope is None or t.form.get("scope") == challenged_scope,
                f"token request scope {t.form.get('scope')!r}, want the 401's {challenged_scope!r}",
            )
            expect(
                "authorization" in t.request_headers or "client_secret" in t.form,
                "the token request carried no client authentication",
            )
            # 5. the probe retried with the token
            retried = next(
                (
                    i for i, e in enumerate(log)
                    if i > tok and e.method == "POST" and e.url == MCP_URL and e.rpc_method == "server/discover"
                ),
                -1,
            )
            expect(retried > tok and log[retried].status == 200, f"server/discover was not retried with the token: {steps}")
            expect(
                log[retried].request_headers.get("authorization", "").startswith("Bearer "),
                "the retried server/discover carried no bearer token",
            )
            expect_modern(client, rec)
            await expect_tools_listed(client)
            token = storage.tokens
            expect(token is not None, "the provider stored no token")
            granted = set((token.scope or t.form.get("scope") or "").split())  # type: ignore[union-attr]
            expect({"news:read", "profile"} <= granted, f"granted scopes {sorted(granted)}, want news:read and profile")
            await expect_whoami(client, client_id=client_id, issuer=issuer, scopes=granted)
            expect_modern(client, rec)
            expect(
                sum(1 for e in rec.log if e.form.get("grant_type") == "client_credentials") == 1,
                f"more than one token request: {rec.steps()}",
            )
            trace(rec)


CHECKS = {
    "bearer-tools-list-whoami": bearer_tools_list_whoami,
    "oauth-client-credentials-whoami": oauth_client_credentials_whoami,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in CHECKS:
        print(f"usage: client.py {{{','.join(CHECKS)}}}", file=sys.stderr)
        return 2
    try:
        asyncio.run(CHECKS[argv[1]]())
        return 0
    except CheckFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except BaseException as exc:  # noqa: BLE001 — one line per failure for run.sh
        inner = exc
        while getattr(inner, "exceptions", None):  # unwrap exception groups for the reason
            inner = inner.exceptions[0]  # type: ignore[attr-defined]
        print(f"{type(inner).__name__}: {str(inner)[:300]}".replace("\n", " "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
