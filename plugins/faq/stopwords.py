"""Stop words per language: words that carry no meaning for matching a question to an answer.

Kept deliberately short and written in normalised form (lower case, no accents), because the
normaliser strips accents before it looks words up. Words that tell FAQ entries apart are left
out on purpose even where classic lists have them: ``much``/``long``/``many`` ("how much does
shipping cost" vs "how long does shipping take"), ``not``/``ne``/``nicht`` (a code that does
not work), ``when``/``where`` and their Czech and German twins.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["STOP_WORDS", "stop_words_for"]

_EN = """
a about above after again all also am an and any are aren as at be been before being below
between both but by can could couldn did didn do does doesn doing don down during each few for
from further had hadn has hasn have haven having he her here hers herself him himself his i if
in into is isn it its itself just let me might mine more most must mustn my myself need no nor
now of off on once only or other our ours ourselves out over own please same shall she should
shouldn so some such than thank thanks that the their theirs them themselves then there these
they this those through to too under until up very was wasn we were weren what which while who
whom why will with won would wouldn you your yours yourself yourselves hi hello hey im ive id
ill youre thats whats s t d ll m re ve tell know want like get
"""

_CS = """
a aby ahoj ale ani asi az bez bude budem budes by byl byla byli bylo byt co coz cz dekuji
dobry den do ho i ja jak jake jaky jaka je jeho jej jeji jejich jem jen jeste ji jiz jsem jses
jsi jsme jsou jste k kdo kdyz ke ktera ktere kteri ktery ku ma mate me mezi mi mit mne
mnou moc mohl mohu moje moji mozna muj muze my na nad nam nami nas nasi nebo nej neni nez nic
o od ode on ona oni ono pak po pod podle pokud potom pri pro proc prosim protoze proto s se si
sve svuj svych ta tak take taky tam te tedy ten tento teto tim timto to tohle toho tom tomto
tu tuto ty tyto u uz v vam vami vas vase ve vsak z za ze zda zdravim mi mam dobry dobrou
"""

_DE = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
auch auf aus bei bin bis bist bitte da damit dann das dass dem den denn der des dich die dir du
durch ein eine einem einen einer eines er es etwas euch euer eure fur gegen gewesen hab habe
haben hallo hat hatte hier hin ich ihm ihn ihnen ihr ihre im in ist ja jede jedem jeden jeder
jedes jetzt kann konnen konnte man mein meine mich mir mit muss mussen nach nun nur ob oder
ohne sehr sein seine sich sie sind so solche soll sollte sondern uber um und uns unser unsere
unter vom von vor war waren was weil welche welchem welchen welcher welches wenn werde werden
wie wieder will wir wird wurde zu zum zur zwar danke guten tag
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_EN.split()),
    "cs": frozenset(_CS.split()),
    "de": frozenset(_DE.split()),
}
"""Stop words by language code (ISO 639-1)."""

_ALL = frozenset().union(*STOP_WORDS.values())


@lru_cache(maxsize=256)
def stop_words_for(lang: str | None) -> frozenset[str]:
    """Return the stop words of ``lang`` (``"cs-CZ"`` counts as ``"cs"``).

    An unknown or missing language gets the union of every list: a visitor whose language we
    do not know may write in any of them, and a word that is a stop word anywhere is rarely
    what tells two FAQ entries apart.
    """
    if lang:
        words = STOP_WORDS.get(lang.split("-")[0].split("_")[0].lower())
        if words is not None:
            return words
    return _ALL
