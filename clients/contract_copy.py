"""The Add client page's "Use the contract person's data": which contract
person field fills which new-owner field, said once. Without JavaScript the
button submits the page and the page copies on the server; with it, the
script copies the same pairs, read from the form's
``data-copy-contract-person`` attribute (``{% contract_copy_pairs %}``).

With JavaScript the page also saves the operator two steps (only in the
browser: what it fills is posted like anything typed): when autofill fills
the contract person and the owner is a new user whose fields hold nothing
typed by hand, the owner follows the contract person as if the button were
pressed, until the operator edits an owner field; and an empty contacts
email follows the contract person's email (``{% contract_defaults %}``)."""

import json

CONTRACT_PERSON_SECTION = "contract_person"
OWNER_SECTION = "owner"
CONTACTS_SECTION = "contacts"

# contract person field → new owner field
CONTRACT_PERSON_TO_NEW_OWNER: dict[str, str] = {
    "first_name": "new_first_name",
    "last_name": "new_last_name",
    "middle_name": "new_middle_name",
    "email": "new_email",
}


def contract_copy_pairs_json() -> str:
    """The pairs as the page's field names (with their section prefixes), in JSON."""
    return json.dumps(
        {
            f"{CONTRACT_PERSON_SECTION}-{source}": f"{OWNER_SECTION}-{target}"
            for source, target in CONTRACT_PERSON_TO_NEW_OWNER.items()
        }
    )


# contract person field → the contacts field it fills while that one is empty
CONTRACT_PERSON_TO_EMPTY_CONTACTS: dict[str, str] = {"email": "email"}


def contract_defaults_json() -> str:
    """The contract person → contacts pairs as the page's field names, in JSON."""
    return json.dumps(
        {
            f"{CONTRACT_PERSON_SECTION}-{source}": f"{CONTACTS_SECTION}-{target}"
            for source, target in CONTRACT_PERSON_TO_EMPTY_CONTACTS.items()
        }
    )
