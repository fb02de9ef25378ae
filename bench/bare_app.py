"""The ceiling: a bare FastAPI app with the same two webhook paths that only reads the body
and answers as the real ones do (empty 200 for Telegram, empty TwiML for Twilio), served by
the same uvicorn settings as ``python -m bot serve``. No database, no parsing, no checks.

``python bench/bare_app.py PORT``
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

app = FastAPI(docs_url=None, redoc_url=None)


@app.post("/webhooks/telegram")
async def telegram(request: Request) -> Response:
    await request.body()
    return Response(status_code=200)


@app.post("/webhooks/whatsapp")
async def whatsapp(request: Request) -> Response:
    await request.body()
    return Response(EMPTY_TWIML, media_type="text/xml")


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
