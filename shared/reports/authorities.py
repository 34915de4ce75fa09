"""Authorities, not spellings: organisations are free text, so reports group them by authority.

An organisation is first *normalised* (:func:`normalise`: Unicode NFKD with combining marks
removed, case folded, whitespace collapsed), so "Stockholms stad", "STOCKHOLMS  STAD " and
"Stockholms städ" are one. Organisers then keep *aliases* mapping other spellings to one
authority ("Stockholm City" -> "Stockholms stad"), stored in the table (``PK=AUTHORITIES``,
:mod:`shared.platform.keys`). An alias points to a canonical name that is not itself an alias,
and a canonical name cannot become an alias: so no chain and no cycle (:class:`AliasError`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from boto3.dynamodb.conditions import Key

from shared.platform import keys
from shared.platform.clients import table
from shared.registrations.store import query_items


class AliasError(ValueError):
    """The alias would make a chain or a cycle, or names nothing."""


def normalise(organisation: str) -> str:
    """The grouping key of an organisation: NFKD, combining marks dropped, casefolded,
    whitespace collapsed (``"  Stockholms  STÄD "`` -> ``"stockholms stad"``)."""
    decomposed = unicodedata.normalize("NFKD", organisation)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def tidy(organisation: str) -> str:
    """A spelling as shown: surrounding and repeated whitespace removed, case kept."""
    return " ".join(organisation.split())


@dataclass(frozen=True)
class Alias:
    variant: str
    canonical: str


def aliases(table_name: str) -> list[Alias]:
    """Every alias, by normalised variant (one Query on ``PK=AUTHORITIES``)."""
    condition = Key("PK").eq(keys.AUTHORITIES) & Key("SK").begins_with(keys.ALIAS_SK_PREFIX)
    return [
        Alias(str(i["variant"]), str(i["canonical"]))
        for i in query_items(table_name, KeyConditionExpression=condition, ConsistentRead=True)
    ]


def add_alias(table_name: str, variant: str, canonical: str, now: datetime) -> Alias:
    """Map ``variant`` to the authority ``canonical`` (replacing the variant's earlier alias).

    Raises :class:`AliasError` if either is blank, both normalise alike, ``canonical`` is
    itself an alias (a chain: alias to its own canonical name instead), or ``variant`` is the
    canonical name of other aliases (it would make them a chain, or a cycle).
    """
    variant, canonical = tidy(variant), tidy(canonical)
    key, target = normalise(variant), normalise(canonical)
    if not key or not target:
        raise AliasError("an alias needs a variant and an authority, both not blank")
    if key == target:
        raise AliasError(f"{variant!r} and {canonical!r} are already the same authority")
    known = {normalise(a.variant): a for a in aliases(table_name)}
    pointing = sorted(a.variant for a in known.values() if normalise(a.canonical) == key)
    if target in {normalise(p) for p in pointing}:
        raise AliasError(
            f"{canonical!r} is an alias of {variant!r}: the reverse would make a cycle "
            f"(unalias {canonical!r} first to swap them)"
        )
    if pointing:
        raise AliasError(
            f"{variant!r} is the authority of alias(es) {', '.join(map(repr, pointing))}: "
            "unalias them first (no chains)"
        )
    if target in known:
        raise AliasError(
            f"{canonical!r} is itself an alias of {known[target].canonical!r}: "
            f"alias {variant!r} to {known[target].canonical!r} instead (no chains)"
        )
    table(table_name).put_item(
        Item={
            "PK": keys.AUTHORITIES,
            "SK": keys.alias_sk(key),
            "type": "authority_alias",
            "variant": variant,
            "canonical": canonical,
            "canonical_key": target,
            "set_at": now.isoformat(),
        }
    )
    return Alias(variant, canonical)


def remove_alias(table_name: str, variant: str) -> bool:
    """Forget the alias of ``variant`` (any spelling of it); whether there was one."""
    response = table(table_name).delete_item(
        Key={"PK": keys.AUTHORITIES, "SK": keys.alias_sk(normalise(variant))},
        ReturnValues="ALL_OLD",
    )
    return bool(response.get("Attributes"))


class Resolver:
    """Organisation -> authority (a display name), from the aliases read once."""

    def __init__(self, known: Iterable[Alias]) -> None:
        known = list(known)
        self._aliases: Mapping[str, str] = {normalise(a.variant): a.canonical for a in known}
        # An authority named by an alias shows as the alias says, whatever spelling is used.
        self._names: dict[str, str] = {normalise(a.canonical): a.canonical for a in known}

    def key(self, organisation: str) -> str:
        """The authority's grouping key (normalised canonical name)."""
        key = normalise(organisation)
        return normalise(self._aliases[key]) if key in self._aliases else key

    def authority(self, organisation: str) -> str:
        """The authority's name: its alias's canonical name, else the first spelling seen of
        it (tidied), so every spelling of one authority shows as one name."""
        return self._names.setdefault(self.key(organisation), tidy(organisation))
