"""Runs inside the benchmark's Django environment: creates the measuring user (quality
manager, sees every case) and an API token, and works out the figures the plan needs.

    python prepare.py EMAIL PASSWORD   → JSON on stdout
"""

from __future__ import annotations

import json
import sys

import django


def main() -> None:
    django.setup()
    from leitplanke.accounts import services as accounts
    from leitplanke.accounts.models import Role, User
    from leitplanke.cases import list_selectors
    from leitplanke.cases.models import Case
    from leitplanke.core.pagination import encode_cursor

    email, password = sys.argv[1], sys.argv[2]
    user = User.objects.filter(email=email).first()
    if user is not None:  # a database kept from an earlier run (bench/run.py --database)
        user.set_password(password)
        user.save(update_fields=["password"])
    user = user or accounts.user_create(
        actor=None,
        email=email,
        full_name="Bench Quality",
        password=password,
        language="de",
        roles=[Role.objects.get(key="quality_manager")],
    )
    _token, plain = accounts.api_token_create(actor=user, name="bench", scopes=["read", "write"])
    total = Case.objects.count()
    position = max(0, int(total * 0.9) - 1)
    received_at, case_id = Case.objects.order_by("-received_at", "-id").values_list("received_at", "id")[position]
    ids = Case.objects.order_by("id").values_list("id", flat=True)
    search_rows = list_selectors.listed_cases(actor=user, params={"q": "Zählerstand"}).count()
    print(
        json.dumps(
            {
                "email": email,
                "token": plain,
                "list_rows": total,
                "deep_position": position + 1,
                "deep_cursor": encode_cursor([received_at, case_id]),
                "min_id": ids.first(),
                "max_id": ids.last(),
                "search_word": "Zählerstand",
                "search_rows": search_rows,
            }
        )
    )


if __name__ == "__main__":
    main()
