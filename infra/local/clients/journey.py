"""The guest journey through the Python client that openapi-python-client generates from
openapi.yaml, against a running local stack: what a client author gets, used as documented.

    python journey.py GENERATED_DIR     (env: CHAT_API_URL, MOTO_URL, DEMO_EMAIL, DEMO_PASSWORD)

Every call goes through the generated functions and models; a status the call did not
expect, or an answer that does not parse into the documented model, fails the run.
"""

import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # infra/local: mail.py

from chat_api_client import AuthenticatedClient, Client  # noqa: E402
from chat_api_client.api.api_tokens import create_api_token  # noqa: E402
from chat_api_client.api.chat_messages import create_message, list_messages  # noqa: E402
from chat_api_client.api.chat_users import get_chat_user_token, send_auth_code  # noqa: E402
from chat_api_client.api.chats import create_chat, share_chat  # noqa: E402
from chat_api_client.api.companies import create_company  # noqa: E402
from chat_api_client.api.current_user import get_current_chat_user  # noqa: E402
from chat_api_client.models import (  # noqa: E402
    AcceptedMessage,
    ChatCreateRequest,
    ChatEnvelope,
    ChatPasswordEnvelope,
    ChatShareRequest,
    ChatUserEnvelope,
    ChatUserTokenEnvelope,
    CompanyCreateRequest,
    CompanyEnvelope,
    GetTokenRequest,
    MessageCreateRequest,
    MessageEnvelope,
    MessageList,
    NewApiTokenEnvelope,
    SendCodeRequest,
    TokenCreateRequest,
)

import mail  # noqa: E402

API = os.environ["CHAT_API_URL"]
steps = 0


def expect(response, status: int, model):
    """The parsed answer of a `sync_detailed` call, checked against status and model."""
    global steps
    assert response.status_code == status, f"{status} expected, got {response.status_code}: {response.content!r}"
    assert isinstance(response.parsed, model), f"{model.__name__} expected, got {response.parsed!r}"
    steps += 1
    return response.parsed


def main() -> None:
    anonymous = Client(base_url=API, raise_on_unexpected_status=True)
    login = TokenCreateRequest(email=os.environ["DEMO_EMAIL"], password=os.environ["DEMO_PASSWORD"], name="journey")
    token = expect(create_api_token.sync_detailed(client=anonymous, body=login), 201, NewApiTokenEnvelope).data.token
    operator = AuthenticatedClient(base_url=API, token=token, raise_on_unexpected_status=True)

    company = expect(
        create_company.sync_detailed(client=operator, body=CompanyCreateRequest(name="Client Ltd")), 201, CompanyEnvelope
    ).data
    chat = expect(
        create_chat.sync_detailed(client=operator, body=ChatCreateRequest(company_id=company.id, name="Generated")),
        201,
        ChatEnvelope,
    ).data
    password = expect(
        share_chat.sync_detailed(chat.id, client=operator, body=ChatShareRequest()), 200, ChatPasswordEnvelope
    ).data.password

    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    ask = SendCodeRequest(email=email, name="Client Guest", password=password)
    expect(send_auth_code.sync_detailed(chat.id, client=anonymous, body=ask), 202, AcceptedMessage)
    code = mail.latest_code(email)
    assert code, f"no code was emailed to {email}"
    exchange = GetTokenRequest(email=email, auth_code=code)
    granted = expect(get_chat_user_token.sync_detailed(chat.id, client=anonymous, body=exchange), 200, ChatUserTokenEnvelope)
    guest = AuthenticatedClient(base_url=API, token=granted.data.token, raise_on_unexpected_status=True)
    me = expect(get_current_chat_user.sync_detailed(client=guest), 200, ChatUserEnvelope).data
    assert me.chat_id == chat.id

    sent = expect(
        create_message.sync_detailed(chat.id, client=guest, body=MessageCreateRequest(body="Hello from Python!", client_id="c-1")),
        201,
        MessageEnvelope,
    ).data
    page = expect(list_messages.sync_detailed(chat.id, client=guest), 200, MessageList)
    assert [m.id for m in page.data] == [sent.id] and page.data[0].body == "Hello from Python!"
    newer = expect(list_messages.sync_detailed(chat.id, client=guest, after=sent.id), 200, MessageList)
    assert newer.data == [] and newer.meta.has_more is False

    # The tokens and the code this run used, for the check that none reached the logs.
    if os.environ.get("SECRETS_FILE"):
        with open(os.environ["SECRETS_FILE"], "a") as secrets:
            secrets.write("\n".join([token, password, code, granted.data.token]) + "\n")
    print(f"python client: guest journey passed ({steps} calls, login to ?after=)")


if __name__ == "__main__":
    main()
