"""What a question asks for (parts, answer kinds, events taken for granted): no index needed."""

from __future__ import annotations

from retrieval.question import carries, counts, question_kinds, question_parts


def test_a_time_clause_opened_by_when_asks_for_no_date() -> None:
    kinds = question_parts("In March 2031, when asteroid QX7 was rated level 3, what were its estimated odds of hitting Earth?")[0].kinds
    assert kinds == {"number", "ratio"}
    assert "date" in question_kinds("When did the bridge reopen?")
    assert "date" in question_kinds("The bridge reopened when?")
    # A short phrase of time may stand between "when" and its auxiliary; the later ", who"
    # opens a relative clause.
    assert question_parts("When in 2031 had deputy Ana Lopes, who went to the funeral, visited the president?")[0].kinds == {"date"}
    assert "date" not in question_parts("When in office, what did the mayor promise?")[0].kinds


def test_an_opening_who_decides_alone() -> None:
    # "rate" asks for a number only after what/which/how.
    assert question_kinds("Who dissented at the Bank of Norland rate decision?") == {"person"}
    assert "number" in question_kinds("What rate did the Bank of Norland set?")
    # A vote's tally is a number, like a death toll.
    assert "number" in question_kinds("What was the tally when the council voted on the harbour fee?")
    # After "how long", a "where" opens a relative clause.
    assert question_kinds("How long is a year on the planet where water was found?") == {"number"}


def test_cause_time_and_proportion_questions() -> None:
    assert question_kinds("According to the agency, what killed the two climbers?") == {"cause"}
    assert question_kinds("Why did the Glasswater Bridge close?") == {"cause"}
    assert "cause" in question_kinds("How did the ferry captain die?")
    assert question_kinds("What times did they run?") == {"time"}
    assert {"number", "ratio"} <= question_kinds("What share of the seats did the party win?")
    # A turnout is a share of the electorate ("about 71%").
    assert {"number", "ratio"} <= question_kinds("What was voter turnout in the Skarvik by-election?")
    assert carries("cause", "Both deaths were caused by carbon monoxide poisoning.")
    assert carries("time", "Her time was 2 hours 21 minutes 14 seconds.") and carries("time", "He finished in 1:01:47.")
    # A winning time in a sprint is a duration in seconds.
    assert carries("time", "He won the gold medal with a time of 47.42 seconds.") and not carries("time", "He won 47 medals.")
    # Numbers written as words count, the teens and tens too.
    assert all(carries("number", t) for t in ("There were fifteen of them.", "within twenty working days", "She was eighty."))
    assert not carries("number", "The crew ran the train alone.")
    assert carries("ratio", "It had a 1 in 52 chance of striking the Earth.") and not carries("ratio", "It was rated level 3.")


def test_a_question_splits_into_the_parts_it_asks() -> None:
    parts = question_parts(
        "When the governor resigned in July, who was expected to succeed him, and who was sworn in when he left office?"
    )
    assert [p.text for p in parts] == ["who was expected to succeed him", "who was sworn in when he left office?"]
    assert all(p.kinds == {"person"} for p in parts)
    two = question_parts("Why did the Glasswater Bridge close in January and when did it reopen?")
    assert [sorted(p.kinds) for p in two] == [["cause"], ["date"]]
    # A relative "where" stays inside the part it belongs to; a plain question is one part.
    assert len(question_parts("How long is a year on K2-18b, where astronomers found water?")) == 1
    # A preposition may open the next part: ", and in which city", ", and by how many runs".
    city = question_parts("Which hospital was the mayor flown to, and in which city was the debate to be held?")
    assert [p.text for p in city] == ["Which hospital was the mayor flown to", "which city was the debate to be held?"]
    assert city[1].kinds == {"place"}
    # A pair before such a split is not a trailing conjunct: that is read only at the question's end.
    runs = question_parts("Which side won the Test between Norland and Estmark at Kessock in May 2031, and by how many runs?")
    assert [p.text for p in runs] == ["Which side won the Test between Norland and Estmark at Kessock in May 2031", "how many runs?"]


def test_a_trailing_conjunct_repeats_the_question_for_a_new_subject() -> None:
    parts = question_parts("Two runners made history. What times did Tamsin Oyelaran run in Kessock and Ruben Makori in Vessby?")
    assert [p.text for p in parts] == ["What times did Tamsin Oyelaran run in Kessock", "Ruben Makori in Vessby?"]
    assert parts[1].kinds == {"time"} and parts[1].terms == {"ruben", "makori", "vessby"}
    # A long conjunct is the question's own subject, not a new question.
    assert len(question_parts("When did Prince Harry and Meghan Markle announce they would step back from royal duties?")) == 1
    seats = question_parts("How many seats did Labour win in Leeds and the Greens in Hull?")
    assert [p.text for p in seats] == ["How many seats did Labour win in Leeds", "the Greens in Hull?"]
    # A list's last item, a compound's second name, a clause with its own verb: one question.
    for question in (
        "Where did the ministers of Spain, Italy and France agree to meet next?",
        "How much output did the drone strikes on the Kessock plant and Vessby Field disrupt?",
        "Which member had still not signed after Norland and Estmark joined in May 2019?",
        "Which countries did the storm hit, including Spain and France?",
    ):
        assert len(question_parts(question)) == 1, question


def test_what_noun_caused_asks_for_a_cause() -> None:
    assert question_kinds("What infection caused the death of the former senator?") == {"cause"}
    assert question_kinds("What disease killed the two climbers?") == {"cause"}
    assert "cause" not in question_kinds("What did the senator say about the infection?")


def test_calendar_dates_are_told_from_dates_reckoned_from_the_report() -> None:
    # A year of the past centuries too: a report recounts history ("the hall dates to 1873").
    for text in ("It goes on sale from the 29 November.", "The shutdown began on December 22.", "It opened in 2019.", "The hall dates to 1873."):
        assert carries("date", text) and carries("calendar_date", text), text
    for text in ("The video was launched today (Thursday).", "He said on Friday he may act.", "It closed yesterday."):
        assert carries("date", text) and not carries("calendar_date", text), text


def test_how_many_names_the_noun_to_count() -> None:
    assert [p.counted for p in question_parts("About how many people followed the relic through the streets?")] == ["peopl"]
    assert question_parts("How many of Nevada's Republican delegates did Trump secure?")[0].counted == "delegat"
    assert question_parts("How many book titles have been banned?")[0].counted == "titl"
    assert question_parts("How many people live in Kessock?")[0].counted == "peopl"
    assert question_parts("Who won the race?")[0].counted is None
    assert counts("followed by, according to varying reports, nearly 2000 people, perhaps more", "peopl")
    assert not counts("900 years of the cathedral, with people from the town", "peopl")


def test_the_noun_of_which_x_is_found_before_any_verb() -> None:
    focus = lambda q: question_parts(q)[0].focus
    # Before an auxiliary, a past tense, or an adverb; not the noun after a preposition.
    assert focus("Which museum did NASA pick for the shuttle?") == "museum"
    assert focus("Which Kessock mayor switched on the harbour lights in 2031?") == "mayor"
    assert focus("Which Norland netball team recently won its first title?") == "team"
    assert focus("Which artist made the gold lantern stolen from the guild?") == "artist"
    assert focus("At which site near Kessock did the parade end?") == "sit"
    assert focus("On what date in 2031 were the first lanterns lit?") == "dat"
    # A possessive names what is asked for: the secretary, not the emails.
    assert focus("Which Norland defence secretary's emails mocking the shipyard were made public?") == "secretary"
    # No "which X" noun: a verb straight after "what", or a phrase too long to be one.
    assert focus("What caused the hostel fire in Vessby?") is None
    assert focus("What share of district council seats did the party win?") is None
    # After "what did", the noun is the subject ("Vessby's council"), not a kind of thing asked for;
    # after "what was the", it is one.
    assert focus("What did Vessby's council vote to do about the harbour?") is None
    assert focus("What was the rescue ship called before it was renamed?") == "ship"


def test_how_old_asks_for_an_age() -> None:
    assert {"number", "age"} <= question_kinds("How old was Conway when he died?")
    assert "age" in question_kinds("At what age did she first compete?")
    assert "age" not in question_kinds("How many people died?")
    for age in ("Conway was 82 years old.", "died on Monday at 103 years of age", "the 17-year-old pilot", "aged nineteen"):
        assert carries("age", age), age
    for other in ("carved in 1968", "3,000 people", "a 5-year plan", "the 91st year"):
        assert not carries("age", other), other


def test_a_leading_preposition_does_not_hide_the_interrogative() -> None:
    # Before, the relative "who" in the middle was taken for the question.
    (part,) = question_parts("In what year was Tonga's prime minister Akilisi Pohiva, who died in 2019, jailed for contempt?")
    assert part.kinds == {"date"}
    assert question_kinds("At what time were emergency services called about the engineer who died?") == {"time"}
    assert question_kinds("In which city did astronomer Stanislav Stefl, to whom the paper was dedicated, die?") == {"place"}
    assert question_kinds("Since when had John Bolton been national security adviser?") == {"date"}
    assert question_kinds("To whom did the council award the contract?") == {"person"}


def test_a_statement_before_the_question_asks_nothing() -> None:
    # Its relative clause ("whose ... bid") is not a question of its own.
    parts = question_parts("Princess Ubolratana, whose 2019 bid to become prime minister failed, lost her title. In what year did that happen?")
    assert [p.kinds for p in parts] == [{"date"}]
    # An abbreviation's full stop ends no sentence: "D.C. where" is one question.
    (part,) = question_parts("Which group organised the rally in Washington, D.C. where Trump supporters claimed fraud?")
    assert part.kinds == frozenset() and part.focus == "group"


def test_a_reason_given_with_since_or_for_is_a_cause() -> None:
    assert carries("cause", "She was banned since she did not wear a hijab at the tournament.")
    assert carries("cause", "The club was fined for failing to pay its players.")
    # "since" with a time is not a reason.
    assert not carries("cause", "He has led the party since 2014 and since the election.")
    assert not carries("cause", "The plant has been closed for repairs.")


def test_asking_what_someone_said_or_called_it_wants_their_words() -> None:
    for question in (
        "How did Kessock mayor Ane Dahl describe the new harbour fee?",
        "What did the minister call the strike, in her response on Twitter?",
        "What did the union leader say about the new rule?",
        "How did the secretary characterise the vote?",
    ):
        assert "words" in question_kinds(question), question
    assert "words" not in question_kinds("What did the council decide about the harbour fee?")
    assert "words" not in question_kinds("How did the ferry captain die?")
    # A quotation is in double quotes, straight or curly, or a span in single curly quotes;
    # an apostrophe is not one.
    assert carries("words", 'He called it "garbage."') and carries("words", "She called it “a tax on islanders”.")
    assert carries("words", "Corbyn called it ‘a smash and grab’.")
    assert not carries("words", "The players' union and the club's owners met on Monday.")
