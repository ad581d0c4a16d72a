"""Czech and German shop words glossed in English, so a question finds an English phrasing.

Why: a FAQ usually has one Czech and one German phrasing per entry at best, and a visitor's
Czech or German paraphrase seldom shares a word with it (bikes tune split: 12 of 24 Czech and
3 of 10 German questions answered), while the English phrasings and the answer say the same
thing in other words. The bundled embedding model (wordllama) is English: it cannot bridge
the languages either, and no multilingual model ships inside a PyPI package. A small glossary
of the words customers use with any online shop — orders, delivery, payment, returns,
warranty, accounts, opening hours, service — can: "Nedostal jsem číslo zásilky" is glossed
"not received number parcel", which meets "I have not received a tracking number".

The glossary is general shop and customer-support vocabulary written from a dictionary, not
from any FAQ or question set; a team adds the words of its own trade in the FAQ file
(``[glossary]``, see entries.py). Keys are folded (lower case, no diacritics, so Czech typed
without them matches too) *word beginnings*: Czech and German inflect at the end, so
"objedn" covers objednávka, objednávku, objednat, objednám. A key matches a word that starts
with it and goes on for at most ``MAX_ENDING`` more letters (longer words are other words:
compounds, derivations); the longest matching key wins. Keys shorter than ``MIN_KEY``
letters match whole words only.

Used by the matcher in two ways (matcher.py): a glossed word also matches the index words of
its English glosses (at ``GLOSS_WEIGHT``, like a typo), and for the semantic score the
question is embedded a second time with its glossed words replaced by their glosses.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from .text import words

__all__ = ["GLOSS_WEIGHT", "MAX_ENDING", "MIN_KEY", "Glossary", "default_glossary", "glossary_for"]

GLOSS_WEIGHT = 0.8
"""How much an index word reached through a gloss counts, against the word itself (1.0). A
gloss is a guess, so the visitor's own words must win at equal coverage: a FAQ with one
entry per language (the old eval set) must answer a Czech question from its Czech entry,
not tie it with the English twin. 1.0 gained 5 of 413 tune answers and lost exactly that;
a word is credited once either way (matcher.py)."""

MIN_KEY = 4
"""Keys shorter than this match whole words only ("kdy", "wo")."""

MAX_ENDING = 6
"""How many letters a word may have after the key that matches it."""

# Czech: folded word beginnings -> English words.
CS: dict[str, str] = {
    # orders
    "objedn": "order",
    "nakup": "purchase buy",
    "koup": "buy purchase",
    "zrus": "cancel",
    "storn": "cancel",
    "zmen": "change",
    "pridat": "add",
    "kosik": "basket cart",
    # delivery
    "doruc": "delivery deliver",
    "dodan": "delivery",
    "dodac": "delivery",
    "dodav": "delivery",
    "dopra": "shipping delivery",
    "postovn": "postage shipping",
    "posil": "send ship",
    "posla": "send ship",
    "posle": "send ship",
    "odesl": "sent dispatched",
    "expedic": "dispatch shipping",
    "zasil": "parcel shipment",
    "balik": "parcel package",
    "baliku": "parcel package",
    "sledov": "track tracking",
    "dorazi": "arrive",
    "doraz": "arrive",
    "prijd": "arrive come",
    "prisl": "arrived came",
    "dostal": "received got",
    "nedostal": "not received",
    "nedorazi": "not arrived",
    "nepris": "not arrived",
    "zahranic": "abroad foreign",
    "kuryr": "courier",
    "vyzved": "pick collect",
    "osobn": "personal collect",
    # money
    "kolik": "how much",
    "stoji": "cost",
    "cena": "price",
    "ceny": "price prices",
    "cenu": "price",
    "cenik": "price list",
    "platb": "payment pay",
    "plateb": "payment pay",
    "platit": "pay",
    "plati": "pay",
    "platim": "pay",
    "zaplat": "pay",
    "kartou": "card",
    "karta": "card",
    "karty": "card",
    "hotov": "cash",
    "dobirk": "cash on delivery",
    "prevod": "transfer",
    "faktur": "invoice",
    "splat": "instalments",
    "zdarm": "free",
    "zadarm": "free",
    "levn": "cheap",
    "drah": "expensive",
    "slev": "discount",
    "kupon": "coupon code",
    "kod": "code",
    "kodu": "code",
    "poukaz": "voucher",
    "darkov": "gift",
    "penez": "money refund",
    "penize": "money refund",
    "zaloh": "deposit",
    # returns and warranty
    "vrat": "return",
    "vrac": "return",
    "reklamac": "claim complaint warranty",
    "reklamo": "claim complaint warranty",
    "zaruk": "warranty guarantee",
    "zarucn": "warranty guarantee",
    "rozbit": "broken",
    "vadn": "faulty defective",
    "poskoz": "damaged",
    "nefung": "not working broken",
    "vymen": "exchange replace",
    "vymenu": "exchange",
    "velikost": "size",
    "velik": "size",
    # the shop
    "otevr": "open",
    "otevir": "open opening hours",
    "zavr": "closed",
    "hodin": "hours",
    "prodejn": "shop store",
    "obchod": "shop store",
    "pobock": "branch shop",
    "adres": "address",
    "parkov": "parking park",
    "skladem": "stock",
    "sklad": "stock warehouse",
    "dostupn": "available",
    "vyprod": "sold out",
    "novink": "new",
    # contact and account
    "telefon": "phone",
    "zavol": "call phone",
    "volat": "call",
    "kontakt": "contact",
    "napsat": "write",
    "napis": "write",
    "ucet": "account",
    "uctu": "account",
    "hesl": "password",
    "registr": "register account",
    "prihlas": "log in",
    "odhlas": "unsubscribe",
    "zakaznik": "customer",
    "clovek": "human person",
    "operator": "agent operator",
    "pomoc": "help",
    "poradit": "advise help",
    "doporuc": "recommend",
    # service
    "servis": "service",
    "oprav": "repair fix",
    "prohlid": "inspection check",
    "rezerv": "book booking",
    "termin": "appointment date",
    "objednat se": "book",
    "pujc": "rent hire",
    "pronaj": "rent hire",
    "vyzkous": "try test",
    "zkusit": "try",
    "zkous": "try test",
    "pouzit": "used second hand",
    "bazar": "second hand used",
    "protiucet": "trade in",
    "sestav": "assemble",
    "smont": "assemble",
    "montaz": "assembly",
    "sloz": "assembled",
    "navod": "guide instructions",
    "pojist": "insurance",
    "ukrad": "stolen theft",
    "kradez": "theft",
    "firma": "company",
    "firmu": "company",
    "firmy": "company",
    "firemn": "company business",
    "dite": "child kids",
    "deti": "children kids",
    "detsk": "kids children",
    # time
    "dlouh": "long",
    "rychl": "quick fast",
    "dnes": "today",
    "zitra": "tomorrow",
    "vikend": "weekend",
    "sobot": "saturday",
    "nedel": "sunday",
    "svatk": "holiday",
    "mesic": "month",
    "tyden": "week",
    "tydn": "week",
    "cekat": "wait",
    "cekam": "waiting",
    # question words (whole words)
    "kdy": "when",
    "kde": "where",
    "jak": "how",
    "proc": "why",
    "muzu": "can",
    "mohu": "can",
    "lze": "can",
}

# German: folded word beginnings -> English words.
DE: dict[str, str] = {
    # orders
    "bestell": "order",
    "kaufen": "buy purchase",
    "kauft": "buy",
    "gekauft": "bought",
    "stornier": "cancel",
    "storno": "cancel",
    "andern": "change",
    "anderung": "change",
    "warenkorb": "basket cart",
    # delivery
    "liefer": "delivery deliver",
    "geliefert": "delivered",
    "versand": "shipping",
    "versend": "send ship",
    "verschick": "send ship",
    "geschickt": "sent",
    "schick": "send",
    "porto": "postage",
    "paket": "parcel package",
    "sendung": "shipment parcel",
    "ankomm": "arrive",
    "angekommen": "arrived",
    "ankunft": "arrival",
    "kommt": "come arrive",
    "erhalten": "received",
    "bekommen": "received get",
    "verfolg": "track tracking",
    "ausland": "abroad",
    "abhol": "pick collect",
    # money
    "kosten": "cost",
    "kostet": "cost",
    "preis": "price",
    "zahlen": "pay payment",
    "zahlung": "payment",
    "bezahl": "pay payment",
    "karte": "card",
    "kreditkart": "credit card",
    "barzahl": "cash",
    "bargeld": "cash",
    "nachnahm": "cash on delivery",
    "uberweis": "transfer",
    "rechnung": "invoice",
    "raten": "instalments",
    "ratenzahl": "instalments",
    "kostenlos": "free",
    "gratis": "free",
    "billig": "cheap",
    "teuer": "expensive",
    "rabatt": "discount",
    "gutschein": "voucher code",
    "geschenk": "gift",
    "geld": "money refund",
    "erstatt": "refund",
    "kaution": "deposit",
    # returns and warranty
    "zuruck": "return back",
    "rucksend": "return",
    "retour": "return",
    "garantie": "warranty guarantee",
    "gewahrleist": "warranty",
    "reklamation": "claim complaint",
    "kaputt": "broken",
    "defekt": "defective faulty",
    "beschadig": "damaged",
    "umtausch": "exchange",
    "tausch": "exchange",
    "grosse": "size",
    # the shop
    "offnungszeit": "opening hours",
    "geoffnet": "open",
    "offen": "open",
    "geschlossen": "closed",
    "geschaft": "shop store",
    "laden": "shop store",
    "filiale": "branch shop",
    "adresse": "address",
    "parkplatz": "parking",
    "parken": "park parking",
    "lager": "stock",
    "vorratig": "stock",
    "verfugbar": "available",
    "ausverkauft": "sold out",
    # contact and account
    "telefon": "phone",
    "anruf": "call phone",
    "kontakt": "contact",
    "schreib": "write",
    "konto": "account",
    "passwort": "password",
    "anmeld": "log in register",
    "registrier": "register",
    "abmeld": "unsubscribe",
    "kunde": "customer",
    "mensch": "human person",
    "mitarbeiter": "staff person",
    "hilfe": "help",
    "beraten": "advise",
    "empfehl": "recommend",
    # service
    "werkstatt": "workshop service",
    "reparat": "repair",
    "reparier": "repair fix",
    "wartung": "service maintenance",
    "inspektion": "inspection service",
    "termin": "appointment",
    "buchen": "book",
    "mieten": "rent hire",
    "miete": "rent hire",
    "gemietet": "rented",
    "leih": "rent hire",
    "ausprobier": "try test",
    "probier": "try",
    "gebraucht": "used second hand",
    "inzahlung": "trade in",
    "montiert": "assembled",
    "montage": "assembly",
    "zusammenbau": "assemble",
    "anleitung": "guide instructions",
    "versicher": "insurance",
    "gestohlen": "stolen",
    "diebstahl": "theft",
    "firma": "company",
    "unternehm": "company business",
    "kinder": "children kids",
    # time
    "lange": "long",
    "schnell": "quick fast",
    "heute": "today",
    "morgen": "tomorrow",
    "wochenend": "weekend",
    "samstag": "saturday",
    "sonntag": "sunday",
    "feiertag": "holiday",
    "monat": "month",
    "woche": "week",
    "warten": "wait",
    "warte": "waiting",
    # question words (whole words)
    "wann": "when",
    "wo": "where",
    "wie": "how",
    "warum": "why",
    "kann": "can",
    "konnen": "can",
}


# English: whole words -> other words customers use for the same thing (the word itself
# stays: English questions meet English phrasings directly, the synonyms only add).
EN: dict[str, str] = {
    "package": "parcel shipment order",
    "packages": "parcels shipment order",
    "parcel": "package shipment",
    "stuff": "order goods items",
    "send": "ship deliver dispatch",
    "sent": "shipped delivered dispatched",
    "sending": "shipping delivery",
    "post": "ship send",
    "posted": "shipped sent",
    "mail": "ship send post",
    "dispatch": "ship send",
    "dispatched": "shipped sent",
    "arrive": "delivery delivered",
    "arrives": "delivery delivered",
    "charge": "cost price fee",
    "charges": "cost price fee",
    "fee": "cost price charge",
    "fees": "cost price charges",
    "pricey": "expensive price",
    "covered": "warranty guarantee",
    "cover": "warranty guarantee",
    "guarantee": "warranty",
    "guaranteed": "warranty",
    "money": "refund pay",
    "swap": "exchange replace",
    "replace": "exchange",
    "replacement": "exchange",
    "faulty": "broken defective damaged",
    "defective": "broken faulty damaged",
    "broken": "damaged faulty defective",
    "broke": "broken damaged",
    "damaged": "broken faulty",
    "bust": "broken",
    "sold": "stock available",
    "unavailable": "stock sold out",
    "restock": "stock back",
    "available": "stock",
    "fix": "repair service",
    "mend": "repair fix",
    "adjust": "service repair",
    "adjusting": "service repair",
    "tune": "service",
    "appointment": "book booking",
    "reserve": "book booking",
    "schedule": "book booking",
    "slot": "booking appointment",
    "hire": "rent rental",
    "rent": "hire rental",
    "renting": "hire rental",
    "borrow": "rent hire",
    "voucher": "gift card code",
    "coupon": "code discount voucher",
    "promo": "code discount",
    "finance": "instalments",
    "installments": "instalments",
    "receipt": "invoice",
    "bill": "invoice",
    "location": "address shop",
    "located": "address shop",
    "ring": "call phone",
    "reach": "contact",
    "try": "test",
    "assemble": "assembled",
    "build": "assemble",
    "setup": "set up assemble",
    "fit": "size fitting",
    "fits": "size fitting",
    "cancel": "cancellation",
    "change": "modify",
    "kids": "children child",
    "kid": "child children",
    "son": "child kids",
    "daughter": "child kids",
    "login": "log in account",
    "signup": "register account",
    "quickly": "fast quick",
    "soon": "fast quick",
    "abroad": "countries foreign",
    "overseas": "abroad countries",
}


class Glossary:
    """Word beginnings (folded) mapped to English words; see the module docstring."""

    def __init__(
        self, *tables: Mapping[str, str], whole_words: Mapping[str, str] | None = None
    ) -> None:
        self._whole: dict[str, tuple[str, ...]] = {
            " ".join(words(key)): tuple(dict.fromkeys([*words(key), *words(glosses)]))
            for key, glosses in (whole_words or {}).items()
        }
        merged: dict[str, tuple[str, ...]] = {}
        for table in tables:
            for key, glosses in table.items():
                folded_key = " ".join(words(key))
                if not folded_key or " " in folded_key:
                    continue  # a key is one word
                found = tuple(dict.fromkeys([*merged.get(folded_key, ()), *words(glosses)]))
                merged[folded_key] = found
        self._keys = merged
        self._longest = max((len(key) for key in merged), default=0)
        self.of = lru_cache(maxsize=16384)(self._of)

    def __len__(self) -> int:
        return len(self._keys) + len(self._whole)

    def _of(self, word: str) -> tuple[str, ...]:
        """Return the English glosses of a folded ``word`` (empty if it has none)."""
        whole = self._whole.get(word)
        if whole is not None:
            return whole
        exact = self._keys.get(word)
        if exact is not None:
            return exact
        for length in range(min(len(word) - 1, self._longest), MIN_KEY - 1, -1):
            if len(word) - length > MAX_ENDING:
                break
            found = self._keys.get(word[:length])
            if found is not None:
                return found
        return ()

    def gloss(self, text: str) -> str | None:
        """Return ``text`` folded, each glossed word replaced by its glosses; None if no word
        of it has a gloss (nothing new to embed)."""
        out: list[str] = []
        changed = False
        for word in words(text):
            glosses = self.of(word)
            if glosses:
                out.extend(glosses)
                changed = True
            else:
                out.append(word)
        return " ".join(out) if changed else None


@lru_cache(maxsize=1)
def default_glossary() -> Glossary:
    """The built-in Czech and German glossary (built once)."""
    return Glossary(CS, DE, whole_words=EN)


def glossary_for(extra: Mapping[str, str]) -> Glossary:
    """The built-in glossary with a FAQ file's own ``[glossary]`` added (its words beginnings
    too; on a key both have, the glosses of both count)."""
    if not extra:
        return default_glossary()
    return Glossary(CS, DE, extra, whole_words=EN)
