"""The seeds' stack: FastAPI on uvicorn, bcrypt (cost 12) password hashes, PyJWT HS256
access tokens, SQLite (WAL). Register, sign in for a JWT, /me verifying it — the protected
route does what the seeds' middleware does: decode the token, no database.

    DB_PATH=… BENCH_SECRET=… uvicorn app:app --port …
"""

import os
import sqlite3
import threading
import time
import uuid

import bcrypt
import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

SECRET = os.environ["BENCH_SECRET"]
DB_PATH = os.environ["DB_PATH"]
COST = 12
_local = threading.local()


def db() -> sqlite3.Connection:
    """One connection per worker thread (sqlite3 connections are not shared across threads)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None, timeout=5)
        conn.execute("PRAGMA journal_mode=WAL")
        _local.conn = conn
    return conn


db().execute(
    "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL,"
    " name TEXT, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL)"
)


class Register(BaseModel):
    email: str
    password: str
    name: str | None = None


class SignIn(BaseModel):
    email: str
    password: str


app = FastAPI()


@app.get("/health")
async def health():
    return {"ok": True}


# bcrypt blocks, so these are plain `def`: FastAPI runs them in its thread pool, and bcrypt
# releases the GIL while it hashes.
@app.post("/register", status_code=201)
def register(body: Register):
    hashed = bcrypt.hashpw(body.password.encode(), bcrypt.gensalt(COST)).decode()
    user_id = str(uuid.uuid4())
    try:
        db().execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
            (user_id, body.email.lower(), body.name, hashed, int(time.time())),
        )
    except sqlite3.IntegrityError:
        raise HTTPException(409, "email already registered")
    return {"id": user_id, "email": body.email.lower()}


@app.post("/signin")
def signin(body: SignIn):
    row = db().execute(
        "SELECT id, email, password_hash FROM users WHERE email = ?", (body.email.lower(),)
    ).fetchone()
    if row is None or not bcrypt.checkpw(body.password.encode(), row[2].encode()):
        raise HTTPException(401, "invalid credentials")
    now = int(time.time())
    claims = {"sub": row[0], "email": row[1], "iat": now, "exp": now + 900}
    return {"access_token": jwt.encode(claims, SECRET, algorithm="HS256"), "token_type": "bearer"}


async def current_user(authorization: str = Header()):
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise HTTPException(401, "bearer token required")
    try:
        return jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid token")


@app.get("/me")
async def me(claims: dict = Depends(current_user)):
    return {"id": claims["sub"], "email": claims["email"]}
