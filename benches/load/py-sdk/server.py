"""Load-test peer for benches/load/run.sh: the MCP Python SDK's MCPServer in
stateless JSON mode (Streamable HTTP), behind the SDK's bearer auth with a
TokenVerifier that checks the row-(b) dev tokens with PyJWT (+ cryptography)
against the dev issuer's JWKS (fetched once, then cached by PyJWKClient).
One `whoami` tool shaped like warden's (structured content + text), served by
uvicorn (one worker; uvloop and httptools, from uvicorn[standard]).

Environment: PORT (listen port on 127.0.0.1), JWKS_URL, ISSUER, AUDIENCE.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Annotated, Any

import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

PORT = int(os.environ["PORT"])
ISSUER = os.environ["ISSUER"]
AUDIENCE = os.environ["AUDIENCE"]
JWKS = jwt.PyJWKClient(os.environ["JWKS_URL"], cache_keys=True)


class JwtVerifier:
    """A `TokenVerifier`: ES256 RFC 9068 access tokens of the dev issuer."""

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            if jwt.get_unverified_header(token).get("typ") != "at+jwt":
                return None
            key = JWKS.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        aud = claims.get("aud")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims["sub"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=aud[0] if isinstance(aud, list) else aud,
            subject=claims["sub"],
            claims=claims,
        )


class Whoami(BaseModel):
    sub: str | None
    client_id: str | None
    issuer: str | None
    provider: str
    audiences: list[str]
    scopes: list[str]
    expires_at: int | None
    expires_at_rfc3339: str | None
    name: str | None
    username: str | None
    email: str | None
    email_verified: bool | None
    picture: str | None
    organization_id: str | None


mcp = MCPServer(
    "py-sdk-peer",
    # Like warden holding rmcp at warn: the SDK logs a line per stateless request at INFO.
    log_level="WARNING",
    token_verifier=JwtVerifier(),
    auth=AuthSettings(
        issuer_url=ISSUER,
        resource_server_url=AUDIENCE,
        validate_token_resource=False,
    ),
)


@mcp.tool(title="Who am I?", description="Shows who you are according to the verified access token.")
async def whoami() -> Annotated[CallToolResult, Whoami]:
    token = get_access_token()
    claims: dict[str, Any] = (token.claims if token else None) or {}
    aud = claims.get("aud")
    exp = claims.get("exp")
    exp_rfc3339 = (
        datetime.fromtimestamp(exp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(exp, int) else None
    )
    structured = {
        "sub": claims.get("sub"),
        "client_id": token.client_id if token else None,
        "issuer": claims.get("iss"),
        "provider": "pyjwt",
        "audiences": [] if aud is None else (aud if isinstance(aud, list) else [aud]),
        "scopes": token.scopes if token else [],
        "expires_at": exp,
        "expires_at_rfc3339": exp_rfc3339,
        "name": claims.get("name"),
        "username": claims.get("username") or claims.get("preferred_username"),
        "email": claims.get("email"),
        "email_verified": claims.get("email_verified") if isinstance(claims.get("email_verified"), bool) else None,
        "picture": claims.get("picture"),
        "organization_id": claims.get("organization_id") or claims.get("org_id") or claims.get("oid"),
    }
    who = structured["username"] or structured["name"] or structured["sub"] or "an unnamed principal"
    scopes = " ".join(structured["scopes"]) or "none"
    expires = f"expires {exp_rfc3339}" if exp_rfc3339 else "no expiry known"
    text = (
        f"You are {who} (client {structured['client_id'] or 'unknown'}) via provider pyjwt; "
        f"scopes: {scopes}; {expires}."
    )
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


app = mcp.streamable_http_app(json_response=True, stateless_http=True)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
