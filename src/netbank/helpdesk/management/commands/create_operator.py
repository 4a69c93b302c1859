"""``netbank create-operator``: a helpdesk operator account and its OTP enrolment.

Prints the otpauth URI (and a QR code in the terminal) once; the seed is stored
sealed and can never be shown again. ``--reenrol`` gives an existing operator a new
seed (lost phone), lifts their login lock, and with ``--new-password`` sets a new
password too. ``--json`` prints the enrolment as one JSON object instead, for a script
(the demo seeds its operators through this command).
"""

from __future__ import annotations

import getpass
import io
import json
import sys
from typing import Any, TextIO

import segno
from django.core.management.base import BaseCommand, CommandError, CommandParser

from netbank.helpdesk.models import OperatorCredential
from netbank.helpdesk.operators import (
    ROLE_GROUPS,
    Enrolment,
    OperatorError,
    operator_create,
    operator_reenrol,
)


class Command(BaseCommand):
    # As createsuperuser: a caller of call_command may hand in the password's stream.
    stealth_options = ("stdin",)
    help = (
        "Create a helpdesk operator (or --reenrol one) and print the OTP enrolment "
        "(otpauth URI and QR code) once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLE_GROUPS), help="operator or supervisor")
        parser.add_argument("--full-name", default="", help="shown in the console")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (no prompt)",
        )
        parser.add_argument(
            "--reenrol",
            action="store_true",
            help="existing operator: new OTP seed, lock lifted (password kept unless --new-password)",
        )
        parser.add_argument("--new-password", action="store_true", help="with --reenrol")
        parser.add_argument("--no-qr", action="store_true", help="print the URI only")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print the enrolment as one JSON object (username, otpauth_uri, "
            "secret_base32, enrolled_at) for a script",
        )

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            stream: TextIO = options.get("stdin") or sys.stdin
            line: str = stream.readline()
            return line.rstrip("\r\n")
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("the passwords do not match")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        try:
            if options["reenrol"]:
                password = self._password(options) if options["new_password"] else None
                enrolment = operator_reenrol(username=username, password=password)
                done = f"Re-enrolled operator {username!r}; the old OTP seed is gone."
            else:
                if not options["role"]:
                    raise CommandError("--role is required (operator or supervisor)")
                enrolment = operator_create(
                    username=username,
                    password=self._password(options),
                    role=options["role"],
                    full_name=options["full_name"],
                    email=options["email"],
                )
                done = f"Created {options['role']} {username!r}."
        except OperatorError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self._print_json(enrolment)
            return
        self.stdout.write(done)
        self._print_enrolment(enrolment, qr=not options["no_qr"])

    def _print_json(self, enrolment: Enrolment) -> None:
        credential = OperatorCredential.objects.get(user=enrolment.user)
        data = {
            "username": enrolment.user.username,
            "otpauth_uri": enrolment.otpauth_uri,
            "secret_base32": enrolment.secret_base32,
            "enrolled_at": credential.enrolled_at.isoformat(),
        }
        self.stdout.write(json.dumps(data, ensure_ascii=False))

    def _print_enrolment(self, enrolment: Enrolment, *, qr: bool) -> None:
        self.stdout.write(
            "Register this key in the operator's authenticator app now; it is shown only once."
        )
        self.stdout.write(f"otpauth URI: {enrolment.otpauth_uri}")
        self.stdout.write(f"Key (base32): {enrolment.secret_base32}")
        if qr:
            picture = io.StringIO()
            segno.make(enrolment.otpauth_uri, error="m").terminal(out=picture, compact=True)
            self.stdout.write(picture.getvalue(), ending="")
        self.stdout.write("The first console login with a code from the app confirms it.")
