"""The Add client page's "Use the contract person's data": which contract
person field fills which new-owner field, said once. Without JavaScript the
button submits the page and the page copies on the server; with it, the
script copies the same pairs, read from the form's
``data-copy-contract-person`` attribute (``{% contract_copy_pairs %}``)."""

import json

CONTRACT_PERSON_SECTION = "contract_person"
OWNER_SECTION = "owner"

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
