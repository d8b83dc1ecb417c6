"""A FastAPI service whose routes need a Latchkey access token.

Run: uvicorn app:create_app --factory   (settings from the environment, see README.md)
"""

from fastapi import Depends, FastAPI

from auth import User, Verifier, current_user


def create_app(verifier: Verifier | None = None) -> FastAPI:
    app = FastAPI(title="Latchkey verifier example")
    app.state.verifier = verifier or Verifier.from_env()

    @app.get("/me")
    def me(user: User = Depends(current_user)):
        # Scope every query by user.id, as the seeds' task service does.
        return {"userId": user.id, "email": user.email}

    return app
