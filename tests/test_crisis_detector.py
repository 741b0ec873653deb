"""The deterministic crisis layer (kat/crisis.py + content/safety/crisis_patterns.yml).

Examples here are written for these unit tests; the adversarial suite in tests/safety/
is the independent check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kat.crisis import (
    CrisisDetector,
    default_detector,
    detector_for,
    load_crisis_config,
)
from kat.pattern_dsl import PatternSyntaxError, compile_pattern, expand_groups

ROOT = Path(__file__).resolve().parent.parent

CRISIS = [
    "i want to kill myself",
    "I WANT TO DIE",
    "kms",
    "thinking about ending it all tonight",
    "honestly everyone would be better off without me",
    "i took a whole bottle of pills",
    "been cutting again",
    "my chest hurts and my left arm is numb",
    "i can't breathe",
    "since the infusion i can't stop throwing up",
    "the hallucinations won't stop and i'm terrified",
    "not gonna lie i want to die",
    "i'm not okay, i want to die",
    "no, i want to die",
    "can't stop thinking about killing myself",
    "i'm not suicidal but i think about death a lot lately",
    "feeling suicdal",
    "sooo suicidal rn",
    "ok so about booking, also i kinda want to end my life, what are your hours",
]
NOT_CRISIS = [
    "this homework is killing me",
    "i'd die for a coffee right now",
    "my phone died lol",
    "i'm not suicidal, just asking",
    "i've never had suicidal thoughts, can i still do this?",
    "can ketamine cause seizures?",
    "i was wondering if ketamine can cause hallucinations",
    "i have a history of seizures, is that a problem?",
    "what are the side effects",
    "i need to catch the bus to get to the clinic",
    "i'm ready to go to my appointment",
    "killing time before my session",
]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return default_detector()


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_messages_are_detected(detector: CrisisDetector, text: str) -> None:
    result = detector.assess(text)
    assert result.is_crisis, (text, result.reason)
    assert result.categories


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_idioms_negations_and_general_questions_are_not_crises(
    detector: CrisisDetector, text: str
) -> None:
    result = detector.assess(text)
    assert not result.is_crisis, (text, result.categories, result.reason)


def test_assessment_never_shows_message_text_in_its_repr(
    detector: CrisisDetector,
) -> None:
    result = detector.assess("i want to kill myself")
    assert "kill" not in repr(result)


def test_every_category_has_strong_patterns_and_all_compile() -> None:
    config = load_crisis_config()
    expected = {
        "suicidal",
        "self_harm",
        "overdose",
        "medical_emergency",
        "severe_reaction",
        "hallucinations",
    }
    assert set(config["categories"]) == expected
    for name, spec in config["categories"].items():
        assert spec["strong"], name
        for line in spec["strong"] + (spec.get("topic") or []):
            assert compile_pattern(line), line


def test_huge_and_odd_input_is_handled(detector: CrisisDetector) -> None:
    assert not detector.assess("").is_crisis
    assert not detector.assess("\x00\x01 <script>alert(1)</script> 😀").is_crisis
    assert detector.assess("hello " * 15000 + "i want to die").is_crisis


def test_a_changed_pattern_file_changes_behaviour(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = load_crisis_config()
    config["categories"]["suicidal"]["strong"].append("purple elephant")
    path = tmp_path / "crisis.yml"
    path.write_text(yaml.safe_dump(config))
    assert CrisisDetector.from_file(path).assess("purple elephant").is_crisis
    assert not default_detector().assess("purple elephant").is_crisis


def test_pattern_groups_expand_and_bad_syntax_is_reported() -> None:
    assert expand_groups("(ca n't|cannot) breathe") == [
        "ca n't breathe",
        "cannot breathe",
    ]
    assert expand_groups("a (b c)? d") == ["a b c d", "a d"]
    assert expand_groups("~^(a|b)$ x") == ["~^(a|b)$ x"]
    with pytest.raises(PatternSyntaxError):
        compile_pattern("(unclosed group")
    with pytest.raises(PatternSyntaxError):
        compile_pattern("...")


# --- other languages (content/safety/crisis_patterns_es.yml, crisis_patterns_intl.yml) --
def _spanish_set() -> dict:
    return yaml.safe_load((ROOT / "tests" / "safety" / "crisis_es.yml").read_text())


def _crisis_in_any_language(text: str) -> bool:
    from kat.crisis import assess_languages, default_detector
    from kat.input_check import OTHER_LANGUAGE, default_checker

    found, _ = assess_languages(
        text,
        default_detector(),
        ["es", "intl"],
        other_language=default_checker().check(text).kind == OTHER_LANGUAGE,
    )
    return found.is_crisis


def test_every_spanish_crisis_message_is_caught() -> None:
    missed = [t for t in _spanish_set()["crisis"] if not _crisis_in_any_language(t)]
    assert missed == []


def test_no_spanish_everyday_message_is_a_crisis() -> None:
    alarms = [t for t in _spanish_set()["not_crisis"] if _crisis_in_any_language(t)]
    assert alarms == []


def test_a_spanish_crisis_is_reported_as_spanish() -> None:
    from kat.crisis import assess_languages, default_detector

    found, language = assess_languages(
        "ya no quiero vivir", default_detector(), ["es", "intl"], other_language=True
    )
    assert found.is_crisis and language == "es"


@pytest.mark.parametrize(
    "text",
    [
        "je veux mourir, je n'en peux plus",
        "vou me matar hoje à noite",
        "ich will sterben",
        "ich will einfach nicht mehr leben",
        "je ne veux plus vivre du tout",
        "tôi thật sự không muốn sống nữa",
        "ik wil niet meer leven",
        "nie chcę już żyć",
        "non voglio più vivere",
        "я больше не хочу жить",
        "我真的不想活了",
        "もう死にたい",
        "اريد ان اموت",
    ],
)
def test_crisis_words_in_other_languages_are_caught(text: str) -> None:
    assert _crisis_in_any_language(text)


@pytest.mark.parametrize(
    "text", ["bonjour, parlez-vous français?", "oi, vocês atendem em português?"]
)
def test_other_languages_without_crisis_words_are_not(text: str) -> None:
    assert not _crisis_in_any_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "gonna crash my car on purpose on the way home",
        "im not going to be around for the next appointment. permanently",
        "i keep hitting my head against the wall and i cant stop",
        "honestly i don't plan on being alive by the end of the month",
        # kinds of phrasing blind round 5 found (2026-12-02), reworded
        "cant stop picturing swerving into the guardrail on my drive home",
        "thinking of walking into the ocean tonight",
        "i'm at the overpass right now",
        "if i'm not around after friday, tell my mom i'm sorry",
        "honestly im done. for good",
        "sorry for everything guys. bye",
        "ngl i keep thinking about how i would do it",
        "been googling how many of my pills is lethal",
        "gonna take my whole supply of meds tonight",
        "slashed my arm earlier and it wont stop",
        "not sure i'll still be around when my first session comes",
        # informational framing never clears what the writer says about themselves
        "just curious, i have suicidal thoughts every day",
        "i took 30 pills, asking for general safety",
        # an eligibility question never clears acute symptoms
        "the voices are telling me to hurt myself, does that rule me out",
        "im seeing things right now and im terrified, can i still do it",
        "gave away all my stuff today, wont be needing it",
        "there's a gun in my closet and i keep looking at it",
        "i read ketamine helps suicidal people, is that true? because i am one",
        "i can't breathe, just curious if that's normal",
        # kinds of phrasing blind round 13 found (2026-12-04), reworded
        "pretty sure im about to do something drastic to myself",
        "theres no way out for me other than dying",
        "thinking about wrecking my car on the bridge tonight",
        "whats the fastest way ketamine could kill someone? because i want it to",
        "lately i keep imagining my own funeral",
        "said goodbye to my sister earlier without telling her why",
        "this is my last chance before i end it",
        "in the tub with a razor rn",
        "had a bottle of wine and the rest of my sleeping pills",
        "my roommate is shaking and jerking on the floor",
    ],
)
def test_plans_farewells_and_self_harm_are_crises(text: str) -> None:
    assert default_detector().assess(text).is_crisis


@pytest.mark.parametrize(
    "text, reason",
    [
        ("will i see things during it?", "side_effect_question"),
        (
            "i was suicidal in high school but that was 12 years ago and ive been fine since",
            "resolved_past",
        ),
        ("i overdosed on coffee today, jittery af lol", "idiom"),
        (
            "not suicidal at all, just wondering if ketamine was studied for suicidal depression",
            "informational",
        ),
        ("writing an essay on self harm in teens, does ketamine come up", "idiom"),
        ("my homework wants me dead lol", "idiom"),
        (
            "my sister volunteers in suicide prevention research, any info for her",
            "idiom",
        ),
        ("saw a documentary on overdoses, how do clinics keep this safe", "idiom"),
        ("self harm was a thing for me in high school, way past it now", "resolved_past"),
        ("if this fails im gonna jump into a whole new career lol", "idiom"),
        (
            "is it possible to overdose on adderall? my friend asked, asking for general safety",
            "informational",
        ),
        ("my uncle died of an overdose when i was a kid, how risky is ketamine", "idiom"),
        ("doing a presentation on overdose prevention for my psych class", "idiom"),
        ("my kid asked me what an overdose is, how do i explain it", "informational"),
        ("i sometimes hear voices, would that disqualify me", "eligibility_question"),
        (
            "i see shadow people now and then, can i still do ketamine",
            "eligibility_question",
        ),
        # blind set r7's kinds, in other words
        ("ketamine and hallucinations, is that a thing?", "side_effect_question"),
        ("would i be hearing things at some point", "side_effect_question"),
        (
            "i self harmed as a teen, been 9 yrs clean now. is kat for adults",
            "resolved_past",
        ),
        ("im killing myself studying for finals lol", "idiom"),
        ("she takes keppra for seizures, is that ok", "past_context"),
        # blind round 13's kinds, reworded
        ("i fainted once at the dentist, is fainting a side effect", "past_context"),
        (
            "im dying of curiosity lol, do people really hallucinate",
            "side_effect_question",
        ),
        (
            "would i keep hearing things once the session is over?",
            "side_effect_question",
        ),
        (
            "an old psych note says suicidal thoughts years ago, that got resolved",
            "resolved_past",
        ),
        # a symptom's risk word in an eligibility question is medical history (r12)
        (
            "my blood pressure runs high, like 150/95, does that rule me out",
            "eligibility_question",
        ),
        (
            "i get chest pain when i exercise, its angina, does that exclude me",
            "eligibility_question",
        ),
    ],
)
def test_side_effect_questions_and_resolved_history_are_not(
    text: str, reason: str
) -> None:
    found = default_detector().assess(text)
    assert not found.is_crisis and found.reason == reason


def test_an_acute_message_is_a_crisis_even_as_a_question() -> None:
    # The side-effect and eligibility clearings do not hold when it sounds acute.
    detector = default_detector()
    assert detector.assess(
        "is seeing things normal? it wont stop since my session and im terrified"
    ).is_crisis
    assert detector.assess(
        "my brother hears voices telling him to hurt himself, could he still try it"
    ).is_crisis
    assert detector.assess(
        "i'm having crushing chest pain right now, does that rule me out"
    ).is_crisis
    assert detector.assess(
        "im getting chest pain and cant breathe, am i still allowed to come"
    ).is_crisis


def test_resolved_history_needs_both_long_ago_and_over() -> None:
    # Long ago but not said to be over, or over but recent: still a crisis.
    assert default_detector().assess("i was suicidal in high school").is_crisis
    assert (
        default_detector().assess("i was suicidal last month but im fine now").is_crisis
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        ("me quiero morir de la vergüenza jaja", "idiom"),
        ("nunca he intentado hacerme daño, solo pregunto", "negated"),
    ],
)
def test_a_spanish_clearing_reaches_the_caller(text: str, reason: str) -> None:
    """English saw nothing, the Spanish patterns saw and cleared it: the gate's NLU
    thresholds must treat the message as cleared, not as unexamined."""
    from kat.crisis import assess_languages, default_detector

    found, language = assess_languages(text, default_detector(), ["es"], False)
    assert not found.is_crisis and found.reason == reason and language is None


def test_a_spanish_message_is_judged_by_the_spanish_patterns() -> None:
    """English's ``~^suicid`` and the Portuguese ``suicidio`` read the Spanish word in
    a told history; in a message the gate reads as Spanish, the Spanish patterns saw
    the same word and cleared it (long ago and over), so it is not a crisis. Without
    that language, or when Spanish finds a crisis, the match stands (round 13-es)."""
    from kat.crisis import assess_languages, default_detector

    history = "hace 8 años tuve un intento de suicidio, hoy estoy bien, con trabajo"
    found, _ = assess_languages(history, default_detector(), ["es", "intl"], True, "es")
    assert not found.is_crisis and found.reason == "resolved_past"
    found, _ = assess_languages(history, default_detector(), ["es", "intl"], False)
    assert found.is_crisis
    now = "estoy pensando en el suicidio todo el dia"
    found, language = assess_languages(
        now, default_detector(), ["es", "intl"], True, "es"
    )
    assert found.is_crisis and language == "es"


@pytest.mark.parametrize(
    "text, crisis",
    [
        ("de chica me daban convulsiones por fiebre, nunca mas me pasaron", False),
        ("me desmaye una vez hace 3 años en el gym, desde entonces nada", False),
        ("la ketamina puede dar convulsiones?", False),
        ("mi hermano esta convulsionando en el piso", True),
        ("me desmaye hace diez minutos despues de la sesion", True),
    ],
)
def test_spanish_symptoms_told_as_history_are_not_crises(text: str, crisis: bool) -> None:
    assert _crisis_in_any_language(text) is crisis


def test_a_spanish_idiom_explains_a_message() -> None:
    from kat.crisis import default_detector, has_idiom_in

    text = "no voy a poder ir mañana, se me murio el carro en la carretera"
    assert has_idiom_in(text, default_detector(), ["es"])
    assert not has_idiom_in(text, default_detector(), [])
    assert not has_idiom_in("se me murio mi abuelo ayer", default_detector(), ["es"])


def test_hopelessness_is_distress_not_a_crisis() -> None:
    detector = default_detector()
    text = (
        "honestly i've lost hope, nothing ever helps and i cant see things getting better"
    )
    assert not detector.assess(text).is_crisis and detector.shows_distress(text)
    # Not in a general question, and not denied.
    assert not detector.shows_distress("can ketamine help people who feel hopeless")
    assert not detector.shows_distress("i'm not hopeless, just curious about the cost")
    spanish = detector_for("es")
    assert spanish.shows_distress("ya perdi la esperanza, nada me va a ayudar")


@pytest.mark.parametrize(
    "text, language",
    [
        # rounds 8 and 9's kinds, reworded
        ("sunday is the day, i've made up my mind and i'm decided", "en"),
        ("cant see myself still here next month", "en"),
        ("tell my mom im sorry. none of this was her fault", "en"),
        ("i googled which building downtown is the tallest. not for a photo", "en"),
        ("my brother locked himself in his room with pills and wont open", "en"),
        ("she texted me goodbye an hour ago and wont answer", "en"),
        ("nobody would find me until monday anyway", "en"),
        ("ya no me van a ver nunca mas, gracias por todo", "es"),
        ("hoy me quito la vida, ya lo decidi", "es"),
        ("mi esposo estaria mucho mejor sin mi", "es"),
        ("me hice cortes otra vez anoche", "es"),
        ("me quiero quitar de en medio", "es"),
        ("ojala no despertar mañana", "es"),
    ],
)
def test_rounds_8_and_9_kinds_of_crisis_are_caught(text: str, language: str) -> None:
    detector = default_detector() if language == "en" else detector_for(language)
    assert detector.assess(text).is_crisis, text


def test_a_past_attempt_long_over_is_history_not_an_emergency() -> None:
    spanish = detector_for("es")
    told = "hace 12 años intente suicidarme, llevo mucho tiempo bien con terapia"
    assert not spanish.assess(told).is_crisis
    # Recent, or not said to be over: a crisis.
    assert spanish.assess("anoche intente suicidarme").is_crisis
    assert default_detector().assess("i attempted suicide last month").is_crisis


def test_hyperbole_without_a_risk_word_is_looked_at_and_cleared(
    detector: CrisisDetector,
) -> None:
    # Not a crisis either way; "idiom" (not "no_match") tells the safety gate that the
    # NLU's crisis guess alone must not decide (content/safety/crisis_patterns.yml).
    for text in (
        "my flatmate's gonna murder me if i forget the bins again lol",
        "totally dead on my feet today",
    ):
        assessment = detector.assess(text)
        assert not assessment.is_crisis and assessment.reason == "idiom", text
    # Someone close who "will kill me" is left to the NLU: it may be meant.
    assert detector.assess("my boyfriend will kill me if he finds out").reason == (
        "no_match"
    )
