"""The emails the local SES (moto) received.

    python3 infra/local/mail.py list          `make mail`: every email, oldest first, then
                                              the newest code per address
    python3 infra/local/mail.py code EMAIL    `make code EMAIL=...`: only the newest code
                                              sent to EMAIL (for `CODE=$(make code ...)`)

moto is `MOTO_URL`, else http://127.0.0.1:$MOTO_PORT, the port taken from the environment,
else from .local/dev.env (where `make dev` writes its ports), else 5055 (make dev's default).
Standard library only: it runs with the system python3, before .venv/ exists.
"""

import html
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request


DEV_ENV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".local", "dev.env")


def dev_env_value(name: str) -> str | None:
    """NAME's value in .local/dev.env, if make dev wrote one."""
    try:
        with open(DEV_ENV) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return next((line.partition("=")[2] for line in lines if line.startswith(f"{name}=")), None)


def moto_url() -> str:
    port = os.environ.get("MOTO_PORT") or dev_env_value("MOTO_PORT") or "5055"
    return os.environ.get("MOTO_URL") or f"http://127.0.0.1:{port}"


def emails(url: str | None = None) -> list[dict]:
    """moto's sent messages, oldest first (moto keeps only the HTML part of a body), from
    the SES-only route of our moto launcher (moto_server.py): data.json would dump every
    model moto holds."""
    url = url or moto_url()
    try:
        with urllib.request.urlopen(f"{url}/local-api/ses-messages", timeout=60) as answer:
            data = json.load(answer)
    except (urllib.error.URLError, OSError) as err:
        raise SystemExit(f"moto is not answering at {url} ({err}): is 'make dev' running?")
    return data.get("Message", [])


def recipients(message: dict) -> list[str]:
    return message.get("destinations", {}).get("ToAddresses", []) or []


def text_of(message: dict) -> str:
    body = html.unescape(re.sub(r"<[^>]+>", " ", message.get("body") or ""))
    return re.sub(r"\s+", " ", body).strip()


def code_in(message: dict) -> str | None:
    """The auth code: the subject ends with it ("Your code for <chat>: 123456"); a chat
    name may hold digits too, hence the last 6-digit number, else the body's first."""
    in_subject = re.findall(r"(?<!\d)\d{6}(?!\d)", message.get("subject") or "")
    if in_subject:
        return in_subject[-1]
    in_body = re.findall(r"(?<!\d)\d{6}(?!\d)", text_of(message))
    return in_body[0] if in_body else None


def latest_code(address: str, url: str | None = None, wait_s: float = 10.0) -> str | None:
    """The code of the newest email to `address` that carries one, waiting up to `wait_s`
    for a first one: codes are mailed from the mail queue, a moment after send-code
    answers."""
    address = address.strip().lower()
    deadline = time.monotonic() + wait_s
    while True:
        for message in reversed(emails(url)):
            if address in (a.lower() for a in recipients(message)) and code_in(message):
                return code_in(message)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def list_all() -> None:
    messages = emails()
    if not messages:
        print("No emails yet.")
        return
    newest: dict[str, str] = {}
    for m in messages:
        code = code_in(m)
        print("To:      ", ", ".join(recipients(m)))
        print("From:    ", m.get("source"))
        print("Subject: ", m.get("subject"))
        if code:
            print("Code:    ", code)
            newest.update((a, code) for a in recipients(m))
        print("", text_of(m))
        print("-" * 72)
    if newest:
        print("Newest code per address (`make code EMAIL=<address>` prints it alone):")
        for address, code in newest.items():
            print(f"  {address}  {code}")


def main(argv: list[str]) -> None:
    if argv[1:2] == ["list"]:
        list_all()
    elif argv[1:2] == ["code"] and len(argv) == 3 and argv[2]:
        code = latest_code(argv[2])
        if code is None:
            raise SystemExit(f"no email with a code to {argv[2]} yet (moto at {moto_url()})")
        print(code)
    else:
        raise SystemExit("usage: mail.py list | mail.py code EMAIL   (make code EMAIL=guest@example.com)")


if __name__ == "__main__":
    main(sys.argv)
