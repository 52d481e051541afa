"""Passkeys (WebAuthn discoverable credentials), with the `webauthn` package.

Registration and login each take two requests: the options (a fresh challenge kept in
the session, used once), then the browser's answer, checked for the challenge, origin,
RP ID, user verification and — at login — a sign counter that moves forward. A passkey
found by its credential ID opens its account: a complete login.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from esante import client_address
from esante.accounts.models import Account, Passkey
from esante.accounts.notices import notify_owner
from esante.audit import security_log
from esante.audit.actions import record_event
from esante.audit.models import EventType
from esante.portal.helpdesk import helpdesk_contacts

RP_NAME = "Agence eSanté"
REGISTER_KEY = "esante.passkey.register"
LOGIN_KEY = "esante.passkey.login"
# What a passkey endpoint reads at most: a WebAuthn answer is a few kilobytes, nested four
# levels deep (body, credential, response, transports).
JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 16

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class PasskeyError(Exception):
    def __init__(self, message: str, *, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason
        self.stored: Any = None  # the known passkey that failed the checks, if any


class UnreadableBody(Exception):
    """A body too large or too deeply nested to be read safely (`reason` says which)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object the browser posted, or {} for anything else; UnreadableBody for a
    body over JSON_MAX_BYTES or nested deeper than JSON_MAX_DEPTH (the parser's recursion
    would otherwise end in a RecursionError, a 500)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > JSON_MAX_BYTES:
        raise UnreadableBody("too_large")  # refused before it is read
    try:
        body = json.loads(request.body or b"{}")
    except RecursionError:
        raise UnreadableBody("too_deep") from None
    except (ValueError, UnicodeDecodeError):  # not JSON, or an integer of 4,300+ digits
        return {}
    if _depth(body) > JSON_MAX_DEPTH:
        raise UnreadableBody("too_deep")
    return body if isinstance(body, dict) else {}


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value`, counted without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending and deepest <= JSON_MAX_DEPTH:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def reads_json(view: View) -> View:
    """For the views that read a JSON body: one that cannot be read safely is a 400 with a
    French message (and a security log line) before the view runs."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            json_body(request)
        except UnreadableBody as refusal:
            security_log.warn(request, "json.refused", reason=refusal.reason)
            message = _(
                "Votre navigateur a envoyé une demande trop longue ou mal formée : recommencez."
            )
            return JsonResponse({"error": message}, status=400)
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def rp_id(request: HttpRequest) -> str:
    return str(settings.ESANTE_WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0])


def offered(request: HttpRequest) -> bool:
    """Whether this address can carry passkeys: browsers refuse WebAuthn on an IP address
    (127.0.0.1, ::1, …), so the passkey forms are not rendered there at all."""
    host = settings.ESANTE_WEBAUTHN_RP_ID or split_domain_port(request.get_host())[0]
    try:
        ipaddress.ip_address(str(host).strip("[]"))
    except ValueError:
        return True
    return False


def origins(request: HttpRequest) -> list[str]:
    configured: list[str] = list(settings.ESANTE_WEBAUTHN_ORIGINS)
    return configured or [f"{request.scheme}://{request.get_host()}"]


@dataclass(frozen=True)
class WebAuthnUser:
    """Who registers a passkey: `owner` names them in the session (a challenge made for
    one account never serves another); `handle` is their random WebAuthn user handle."""

    owner: str
    handle: bytes
    name: str
    display_name: str
    existing: list[str]  # their passkeys' credential ids (base64url): not twice


def creation_options(request: HttpRequest, user: WebAuthnUser, *, session_key: str) -> str:
    """The options for navigator.credentials.create(), as JSON; the challenge is kept."""
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=RP_NAME,
        user_id=user.handle,
        user_name=user.name,
        user_display_name=user.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(each)) for each in user.existing
        ],
    )
    request.session[session_key] = {
        "challenge": bytes_to_base64url(options.challenge),
        "owner": user.owner,
    }
    return str(options_to_json(options))


def verified_creation(
    request: HttpRequest, owner: str, credential: dict[str, Any], *, session_key: str
) -> VerifiedRegistration:
    """The browser's answer to our challenge, checked (PasskeyError otherwise)."""
    pending = request.session.pop(session_key, None)
    if not pending or pending.get("owner") != owner:
        raise PasskeyError(_expired_message(), reason="no_challenge")
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(pending["challenge"]),
            expected_rp_id=rp_id(request),
            expected_origin=origins(request),
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError) as error:
        raise PasskeyError(_refused_message(), reason=f"registration:{error}") from error


def request_options(request: HttpRequest, *, session_key: str) -> str:
    """Options for navigator.credentials.get() with no credential named: the browser
    offers the passkeys it holds for this site (discoverable credentials)."""
    options = generate_authentication_options(
        rp_id=rp_id(request), user_verification=UserVerificationRequirement.REQUIRED
    )
    request.session[session_key] = bytes_to_base64url(options.challenge)
    return str(options_to_json(options))


def verified_assertion(
    request: HttpRequest,
    credential: dict[str, Any],
    *,
    session_key: str,
    find: Callable[[str], Any],
    owner_handle: Callable[[Any], str],
    unknown_message: str,
) -> tuple[Any, int]:
    """The stored passkey (found by `find` from its credential id) that answered the
    challenge, and its new sign count; PasskeyError otherwise (`.stored` set when a known
    key failed the checks). `owner_handle` gives the WebAuthn user handle (hex) of the
    stored key's owner: an answer naming another user is refused as an unknown key."""
    challenge = request.session.pop(session_key, None)
    if not challenge:
        raise PasskeyError(_expired_message(), reason="no_challenge")
    try:
        parsed = parse_authentication_credential_json(json.dumps(credential))
    except (InvalidJSONStructure, ValueError, TypeError) as error:
        raise PasskeyError(_refused_message(), reason="malformed") from error
    stored = find(bytes_to_base64url(parsed.raw_id))
    if stored is None:
        raise PasskeyError(unknown_message, reason="unknown_credential")
    # WebAuthn §7.2 step 6: the user the authenticator names (not covered by the
    # signature) must be the key's owner here.
    user_handle = parsed.response.user_handle
    if user_handle is not None and user_handle.hex() != owner_handle(stored):
        raise PasskeyError(unknown_message, reason="user_handle_mismatch")
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id(request),
            expected_origin=origins(request),
            credential_public_key=bytes(stored.public_key),
            credential_current_sign_count=stored.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, ValueError) as error:
        refusal = PasskeyError(_refused_message(), reason=f"verification:{error}"[:200])
        refusal.stored = stored
        raise refusal from error
    return stored, verified.new_sign_count


def registration_options(request: HttpRequest, account: Account) -> str:
    if not account.webauthn_handle:
        account.webauthn_handle = secrets.token_hex(32)
        Account.objects.filter(pk=account.pk).update(webauthn_handle=account.webauthn_handle)
    user = WebAuthnUser(
        owner=f"account:{account.pk}",
        handle=bytes.fromhex(account.webauthn_handle),
        name=account.person.esante_id,
        display_name=account.person.full_name,
        existing=list(account.passkeys.values_list("credential_id", flat=True)),
    )
    return creation_options(request, user, session_key=REGISTER_KEY)


def stored_credential(verified: VerifiedRegistration) -> dict[str, Any]:
    """What is kept of a registered key, a patient's or a staff member's: its id, public
    key and signature counter."""
    return {
        "credential_id": bytes_to_base64url(verified.credential_id),
        "public_key": verified.credential_public_key,
        "sign_count": verified.sign_count,
    }


def register(
    request: HttpRequest, account: Account, credential: dict[str, Any], name: str
) -> Passkey:
    """The browser's answer to the registration challenge, checked (PasskeyError
    otherwise), then its passkey added to the account (add_passkey)."""
    verified = verified_creation(
        request, f"account:{account.pk}", credential, session_key=REGISTER_KEY
    )
    transports = credential.get("response", {}).get("transports") or []
    return add_passkey(
        account,
        verified,
        name=name,
        transports=[str(each) for each in transports][:10],
        ip_address=_ip(request),
    )


def add_passkey(
    account: Account,
    verified: VerifiedRegistration,
    *,
    name: str,
    transports: list[str],
    ip_address: str | None,
) -> Passkey:
    """A checked passkey added to the account (PasskeyError for one already registered):
    audited, and the holder told on their channel."""
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                account=account, name=name, transports=transports, **stored_credential(verified)
            )
            record_event(
                EventType.PASSKEY_ADDED,
                actor=f"person:{account.person_id}",
                person=account.person,
                ip_address=ip_address,
                passkey=passkey.pk,
            )
            with override(account.language):
                notify_owner(
                    account,
                    _("Une clé d'accès a été ajoutée à votre compte eSanté"),
                    _(
                        "La clé d'accès « %(name)s » permet désormais de vous connecter à votre "
                        "compte eSanté. Si ce n'était pas vous, appelez sans attendre le "
                        "helpdesk au %(phone)s."
                    )
                    % {"name": name, "phone": helpdesk_contacts().phone},
                )
    except IntegrityError as error:
        raise PasskeyError(
            _("Cette clé d'accès est déjà enregistrée."), reason="duplicate"
        ) from error
    return passkey


@transaction.atomic
def remove_passkey(passkey: Passkey, *, ip_address: str | None) -> None:
    """The holder removed a passkey (Mon compte, or the majority review): audited, and
    the holder told on their channel."""
    account = passkey.account
    Passkey.objects.filter(pk=passkey.pk).delete()
    record_event(
        EventType.PASSKEY_REMOVED,
        actor=f"person:{account.person_id}",
        person=account.person,
        ip_address=ip_address,
        passkey=passkey.pk,
    )
    with override(account.language):
        notify_owner(
            account,
            _("Une clé d'accès a été supprimée de votre compte eSanté"),
            _(
                "La clé d'accès « %(name)s » ne permet plus de vous connecter à votre compte "
                "eSanté. Si ce n'était pas vous, appelez sans attendre le helpdesk au %(phone)s."
            )
            % {"name": passkey.name, "phone": helpdesk_contacts().phone},
        )


def record_sign_count(passkey: Passkey, sign_count: int) -> None:
    """A key of the account answered a step-up: its new signature counter, against which
    the next answer is checked (a cloned key shows as a counter going back)."""
    Passkey.objects.filter(pk=passkey.pk).update(sign_count=sign_count)


def authentication_options(request: HttpRequest) -> str:
    return request_options(request, session_key=LOGIN_KEY)


def authenticate(request: HttpRequest, credential: dict[str, Any]) -> Account:
    """The account of the passkey that answered the challenge (PasskeyError otherwise)."""

    def find(credential_id: str) -> Passkey | None:
        return (
            Passkey.objects.select_for_update()
            .select_related("account__person")
            .filter(credential_id=credential_id)
            .first()
        )

    unknown = _(
        "Cette clé d'accès n'est associée à aucun compte eSanté : elle a peut-être été "
        "supprimée. Connectez-vous avec votre matricule, votre mot de passe et un code."
    )
    try:
        with transaction.atomic():
            passkey, sign_count = verified_assertion(
                request,
                credential,
                session_key=LOGIN_KEY,
                find=find,
                owner_handle=lambda passkey: passkey.account.webauthn_handle,
                unknown_message=unknown,
            )
            Passkey.objects.filter(pk=passkey.pk).update(
                sign_count=sign_count, last_used_at=timezone.now()
            )
    except PasskeyError as refusal:
        # Written after the transaction: a refusal is recorded, whatever happens next.
        if refusal.stored is not None:
            record_event(
                EventType.PASSKEY_REFUSED,
                actor="anonymous",
                person=refusal.stored.account.person,
                ip_address=_ip(request),
                passkey=refusal.stored.pk,
                reason=refusal.reason,
            )
        else:  # a key that matches no account, no challenge, or garbage
            record_event(
                EventType.LOGIN_FAILED,
                actor="anonymous",
                ip_address=_ip(request),
                method="passkey",
                reason=refusal.reason,
            )
        raise
    account: Account = passkey.account
    return account


def _ip(request: HttpRequest) -> str | None:
    return client_address.of(request)


def _expired_message() -> str:
    return _("La demande de clé d'accès a expiré ou a déjà servi : recommencez.")


def _refused_message() -> str:
    return _(
        "La clé d'accès n'a pas pu être vérifiée. Réessayez, ou connectez-vous avec votre "
        "matricule, votre mot de passe et un code."
    )
