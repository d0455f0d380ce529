"""warden checks with the Python MCP SDK (PyPI `mcp`, pinned in requirements.txt).

    python py/client.py CHECK        exit 0 on success; else one reason line on stderr, exit 1

Environment: MCP_RESOURCE (the MCP URL), IOP_TOKEN (a bearer token with news:read) and,
for `no-scope-refused`, IOP_TOKEN_PROFILE (a token without news:read). Reasons never
contain tokens.

Checks:
  tools-list-and-call   streamable HTTP with a bearer header: initialize, tools/list,
                        tools/call whoami and news_sentiment (fixture ticker ACME)
  no-scope-refused      a token without news:read: tools/call news_sentiment fails with
                        HTTP 403 (the SDK raises; the call never succeeds)
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import asynccontextmanager

import httpx
from mcp import ClientSession

from mcp.client.streamable_http import streamablehttp_client  # 1.x name (2.x: streamable_http_client)

MCP_URL = os.environ.get("MCP_RESOURCE", "http://127.0.0.1:10000/mcp")


class CheckFailed(Exception):
    """A failed expectation; the message is the one-line reason."""


def expect(cond: bool, why: str) -> None:
    if not cond:
        raise CheckFailed(why)


@asynccontextmanager
async def session(token: str):
    headers = {"Authorization": f"Bearer {token}"}
    async with streamablehttp_client(MCP_URL, headers=headers) as (read, write, _get_session_id):
        async with ClientSession(read, write) as s:
            await s.initialize()
            yield s


async def tools_list_and_call() -> None:
    async with session(os.environ["IOP_TOKEN"]) as s:
        listed = await s.list_tools()
        names = sorted(t.name for t in listed.tools)
        expect("whoami" in names and "news_sentiment" in names, f"tools/list gave {names}")
        me = await s.call_tool("whoami", {})
        expect(not me.isError, "whoami returned isError")
        sc = me.structuredContent or {}
        expect(bool(sc.get("sub")), f"whoami has no sub: {sorted(sc)}")
        news = await s.call_tool("news_sentiment", {"ticker": "ACME", "limit": 2})
        expect(not news.isError, f"news_sentiment returned isError: {news.content!r:.200}")
        ns = news.structuredContent or {}
        expect(ns.get("ticker") == "ACME", f"news_sentiment ticker {ns.get('ticker')!r}")
        expect(abs(float(ns.get("sentiment_score", 0)) - 0.255791) < 1e-6,
               f"sentiment_score {ns.get('sentiment_score')!r}, want 0.255791")
        expect(ns.get("sentiment_label") == "Somewhat-Bullish", f"label {ns.get('sentiment_label')!r}")
        expect(len(ns.get("top_articles", [])) == 2, f"{len(ns.get('top_articles', []))} top_articles, want 2 (limit)")


def _statuses(exc: BaseException) -> list[int]:
    """HTTP statuses of httpx errors inside (possibly grouped) exceptions."""
    found: list[int] = []
    if isinstance(exc, httpx.HTTPStatusError):
        found.append(exc.response.status_code)
    for inner in getattr(exc, "exceptions", ()) or ():
        found.extend(_statuses(inner))
    if exc.__cause__ is not None:
        found.extend(_statuses(exc.__cause__))
    return found


async def no_scope_refused() -> None:
    try:
        async with session(os.environ["IOP_TOKEN_PROFILE"]) as s:
            me = await s.call_tool("whoami", {})
            expect(not me.isError, "whoami returned isError")
            result = await asyncio.wait_for(s.call_tool("news_sentiment", {"ticker": "ACME"}), 20)
            expect(bool(result.isError), "news_sentiment succeeded without news:read")
    except CheckFailed:
        raise
    except BaseException as exc:  # the SDK surfaces the HTTP 403 as an exception (group)
        statuses = _statuses(exc)
        expect(403 in statuses, f"news_sentiment failed with {type(exc).__name__}, statuses {statuses}, want 403")


CHECKS = {
    "tools-list-and-call": tools_list_and_call,
    "no-scope-refused": no_scope_refused,
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
        print(f"{type(exc).__name__}: {str(exc)[:300]}".replace("\n", " "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
