"""GSM-7 normalising and segment counting: what a reply costs is what the carrier bills."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import sms

# The GSM 03.38 default alphabet, row by row as the standard prints it (ESC at 0x1B left out).
GSM_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)


def test_basic_table_is_the_standard_one():
    assert len(GSM_TABLE) == 127
    assert sms.GSM7_BASIC == frozenset(GSM_TABLE)


@pytest.mark.parametrize("ch", list("^{}\\[~]|€"))
def test_extension_characters_count_two(ch):
    enc = sms.encode(ch * 80)
    assert (enc.encoding, enc.units, enc.segments) == ("GSM-7", 160, 1)
    assert sms.encode(ch * 80 + "a").segments == 2


@pytest.mark.parametrize("raw, expected", [
    ("café", "café"),  # é is GSM-7
    ("fête", "fete"),  # ê is not
    ("Garçon", "Garcon"),
    ("Ça", "Ça"),  # the capital is GSM-7
    ("\u2018quoted\u2019 \u201cdouble\u201d", "'quoted' \"double\""),
    ("9\u00a0999\u202f999", "9 999 999"),
    ("œuvre – fin…", "oeuvre - fin..."),
    ("à où île", "à où ile"),
    ("«Bonjour»", '"Bonjour"'),
    ("Müller Ñandú", "Müller Ñandu"),
])
def test_normaliser(raw, expected):
    assert sms.normalise(raw) == expected
    assert sms.encode(raw).encoding == "GSM-7"


def test_what_cannot_be_spelt_in_gsm7_goes_ucs2_unchanged():
    assert sms.normalise("ሰላም") == "ሰላም"
    enc = sms.encode("ሰላም ለእርስዎ")
    assert (enc.encoding, enc.units, enc.segments) == ("UCS-2", 9, 1)
    assert sms.encode("Hi 😀").encoding == "UCS-2"
    assert sms.encode("😀").units == 2  # a surrogate pair: two UTF-16 units


def test_a_text_that_needs_ucs2_anyway_keeps_its_own_spelling():
    assert sms.encode("«ተቀላቀል» ይላኩ").text == "«ተቀላቀል» ይላኩ"
    assert sms.encode("Fête 😀").text == "Fête 😀"
    assert sms.encode("Fête").text == "Fete"


@pytest.mark.parametrize("length, segments", [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)])
def test_gsm7_segment_boundaries(length, segments):
    enc = sms.encode("a" * length)
    assert (enc.encoding, enc.units, enc.segments) == ("GSM-7", length, segments)


@pytest.mark.parametrize("length, segments", [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_ucs2_segment_boundaries(length, segments):
    enc = sms.encode("ሀ" * length)
    assert (enc.encoding, enc.units, enc.segments) == ("UCS-2", length, segments)


def test_escape_pair_is_never_split_between_parts():
    enc = sms.encode("a" * 152 + "€" + "a" * 152)  # 306 units, but the € cannot straddle parts 1 and 2
    assert (enc.units, enc.segments) == (306, 3)


def test_surrogate_pair_is_never_split_between_parts():
    enc = sms.encode("ሀ" * 66 + "😀" + "ሀ" * 66)
    assert (enc.units, enc.segments) == (134, 3)


def test_budget_is_one_gsm7_segment_or_two_ucs2():
    assert sms.fits("a" * 160) and not sms.fits("a" * 161)
    assert sms.fits("ሀ" * 134) and not sms.fits("ሀ" * 135)
    assert sms.fits("fête " * 32) and len("fête " * 32) == 160


def test_truncate_cuts_on_a_word_with_an_ellipsis():
    text = " ".join(["word"] * 50)
    cut = sms.truncate(text)
    assert sms.fits(cut) and cut.endswith("word...") and len(cut) <= 160
    assert sms.truncate("short") == "short"


def test_truncate_cuts_inside_one_endless_word():
    cut = sms.truncate("x" * 10_000)
    assert cut == "x" * 157 + "..."
    assert sms.fits(sms.truncate("ሀ" * 500))


def test_split_keeps_every_word_and_each_part_fits():
    text = " ".join(f"w{i}" for i in range(200))
    parts = sms.split(text)
    assert len(parts) > 1 and all(sms.fits(p) for p in parts)
    assert " ".join(parts) == text


def test_split_breaks_a_word_too_long_for_one_part():
    parts = sms.split("y" * 400 + " end")
    assert [len(p) for p in parts] == [160, 160, 84]
    assert "".join(parts).replace(" ", "") == "y" * 400 + "end"


@given(st.text(max_size=600))
def test_split_parts_always_fit(text):
    assert all(sms.fits(p) and p for p in sms.split(text))
    assert sms.fits(sms.truncate(text))


def test_a_name_loses_its_last_word_then_its_last_letter():
    assert sms.shorter("Mwanaisha Abdallah Kilimanjaro") == "Mwanaisha Abdallah.."
    assert sms.shorter("Mwanaisha..") == "Mwanaish.."
    assert sms.shorter("M..") == "M.."  # as short as a name gets
    assert sms.shorter("Zoe\u0301 Ann") == "Zoe\u0301.." and sms.shorter("Zoe\u0301..") == "Zo.."  # é stays whole


def test_ethiopic_is_spelt_in_latin_letters_as_names_are_written():
    assert sms.romanise("ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ") == "Weyzero Birtukan Gebremedhin Weldeslase"
    assert sms.romanise("አበበ በቂላ") == "Abebe Beqila" and sms.romanise("ጎጃም፣ ባሕር ዳር") == "Gojam, Bahir Dar"
    assert sms.romanise("Asha Juma") == "Asha Juma" and sms.romanise("Mama 🍲 Shop") == "Mama Shop"
    assert sms.is_gsm7(sms.romanise("".join(chr(c) for c in range(0x1200, 0x1380))))


def test_a_sixth_order_letter_opening_a_word_is_read_with_its_vowel():
    assert sms.romanise("ስለሺ ይልማ") == "Sileshi Yilma" and sms.romanise("አስተባባሪ") == "Astebabari"
    assert sms.romanise("ብድር ምዝገባ") == "Bidir Mizgeba"
    assert sms.romanise("ዝግጅት ስርጭት ድምጽ መልእክት ግብይት") == "Zigjit Sirchit Dimits Melikit Gibyit"  # never three consonants


def test_a_sentence_is_spelt_as_a_sentence():
    """Sentence mode: lower case but the first letter of each sentence; {placeholders}, KEYWORDS and the
    spacing as they were."""
    spelt = sms.romanise("የ{amount} ቁጠባ ተመዝግቧል። ገንዘብ ያዡ ያሳውቅዎታል።\nJOIN {id} ይላኩ።", names=False)
    assert spelt == "Ye{amount} quteba temezgibwal. Genzeb yazhu yasawqiwotal.\nJOIN {id} yilaku."
    assert sms.romanise("{name} አባል ነው።", names=False) == "{name} abal new."  # a placeholder opens it
    assert sms.romanise("ሰላም  ብርቱካን", names=False) == "Selam  birtukan"


def test_plain_is_the_gsm7_basic_set_alone():
    assert sms.plain("Selam Asha, 5000 (ok)?") and sms.plain("é à ñ @ £")
    assert not sms.plain("Send [x]") and not sms.plain("5€") and not sms.plain("ሰላም") and not sms.plain("{id}")
    assert sms.to_plain("a[b]{c}~d^e|f5€\\g") == "a(b)(c)-de/f5EUR/g"
    assert sms.to_plain("«ሰላም» ☕ “ok” ê") == '"Selam"  "ok" e'
    assert all(sms.plain(sms.to_plain(chr(c))) for c in range(0x20, 0x3000))


def test_a_name_in_a_script_without_a_latin_spelling_keeps_its_letters():
    assert sms.romanisable("ብርቱካን Shop") and sms.romanisable("Mama 🍲 Shop")
    assert not sms.romanisable("١") and not sms.romanisable("محمد") and not sms.romanisable("राम ብር")

    def word(values: dict) -> str:
        return "I have no definition of {term}. Send DEF for topics, or PROPOSE {term} = your word.".format(
            **values)

    for name in ("١٢", "محمد علي", "राम"):
        assert name in sms.for_channel(word, {"term": name}, channel="sms", lang="en")


def test_fit_shortens_only_the_names_and_only_on_sms():
    def word(values: dict) -> str:
        return "{name} from {item}: {amount}. Reply YES {id}.".format(**values)

    values = {"name": "ሰ" * 40, "item": "ለ" * 40, "amount": "TSh" + "9" * 40, "id": "12345"}
    fitted = sms.fit(word, values)
    assert fitted.fits and sms.encode(fitted.text).encoding == "GSM-7" and len(fitted.text) <= 160
    assert fitted.text.endswith(": TSh" + "9" * 40 + ". Reply YES 12345.")
    amharic = sms.fit(word, values, amharic=True)
    assert amharic.fits and "ሰሰ" in amharic.text and sms.encode(amharic.text).units <= 134
    assert sms.for_channel(word, values, channel="telegram", lang="en") == word(values)


# plain GSM-7, its escape characters, letters with a GSM-7 spelling or none, Amharic, an emoji
_MIXED = st.text(alphabet=st.sampled_from(list(GSM_TABLE) + list("^{}\\[~]|€") + list("êçœ’“…\tĀ") +
                                          list("ሰላምአበበ") + ["\U0001F600"]), max_size=400)


@given(st.one_of(_MIXED, st.text(alphabet=st.sampled_from(list(GSM_TABLE)), max_size=400),
                 st.tuples(st.text(alphabet=st.sampled_from(list(GSM_TABLE)), min_size=1, max_size=5),
                           st.integers(1, 150)).map(lambda t: t[0] * t[1])))
def test_the_short_cut_for_plain_text_counts_as_the_walk_does(text):
    assert sms.encode(text) == sms._encode_walk(text)
    assert sms.outgoing(text) == (sms.normalise(text) if sms.is_gsm7(sms.normalise(text)) else text)


@pytest.mark.parametrize("length", [0, 1, 153, 159, 160, 161, 306, 307, 459, 460, 1600])
def test_plain_text_at_each_segment_boundary_counts_as_the_walk_does(length):
    text = ("Savings 5,000 TSh. " * 100)[:length]
    assert sms.encode(text) == sms._encode_walk(text)
