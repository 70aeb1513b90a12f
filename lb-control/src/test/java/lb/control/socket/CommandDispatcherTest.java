package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import lb.control.socket.CommandDispatcher.Answer;
import lb.control.socket.CommandDispatcher.Output;
import org.junit.jupiter.api.Test;

class CommandDispatcherTest
{
    private final List<String> log = new ArrayList<>();
    private final List<List<String>> calls = new ArrayList<>();
    private final CommandDispatcher dispatcher = new CommandDispatcher(log::add);

    CommandDispatcherTest()
    {
        dispatcher
            .register("show stat", "", "statistics", Output.TEXT_OR_JSON, arguments -> record("show stat", arguments,
                Reply.of(new Table().column("name").numberColumn("count").row("a", 1L).row("bb", 22L))))
            .register("show flows", "[N]", "flows", Output.TEXT_OR_JSON, arguments -> record("show flows", arguments,
                Reply.message("flows")))
            .register("show", "WHAT", "the bare show, to check the longest prefix wins", Output.TEXT,
                arguments -> record("show", arguments, Reply.message("bare show")))
            .register("set weight", "SERVICE BACKEND WEIGHT", "weight", Output.TEXT, arguments ->
            {
                arguments.parse(2, "WEIGHT", text -> lb.control.config.Values.weight(text));
                return record("set weight", arguments, Reply.message("ok"));
            })
            .register("del service", "NAME", "remove", Output.TEXT, arguments ->
            {
                throw new CommandException("unknown service '" + arguments.get(0) + "'");
            })
            .register("crash", "", "a handler with a bug", Output.TEXT, arguments ->
            {
                throw new IllegalStateException("boom");
            })
            .register("blank", "", "answers with empty lines inside", Output.TEXT, arguments ->
                Reply.of("one\n\n\ntwo\n", Map.of()));
    }

    private Reply record(final String command, final Arguments arguments, final Reply reply)
    {
        final List<String> call = new ArrayList<>();
        call.add(command);
        for (int i = 0; i < arguments.size(); i++)
        {
            call.add(arguments.get(i));
        }
        calls.add(call);
        return reply;
    }

    @Test
    void splitsWordsAtSpacesAndTabs()
    {
        assertEquals(List.of("set", "weight", "web", "198.18.1.11", "5"),
            CommandDispatcher.split("  set weight\tweb   198.18.1.11 5  "));
        assertEquals(List.of(), CommandDispatcher.split("   "));
    }

    @Test
    void doubleQuotesGroupWordsAndEscape()
    {
        assertEquals(List.of("add", "a b", "", "say \"hi\"", "back\\slash", "joined"),
            CommandDispatcher.split("add \"a b\" \"\" \"say \\\"hi\\\"\" \"back\\\\slash\" jo\"in\"ed"));
        // A backslash outside quotes, or before another character, is an ordinary character.
        assertEquals(List.of("a\\b", "c\\d"), CommandDispatcher.split("a\\b \"c\\d\""));
    }

    @Test
    void anUnterminatedQuoteIsAnError()
    {
        assertThrows(CommandException.class, () -> CommandDispatcher.split("set \"web"));
        final Answer answer = dispatcher.dispatch("set weight \"web 198.18.1.11 5");
        assertEquals("error: unterminated quote in 'set weight \"web 198.18.1.11 5'\n", answer.text());
        assertTrue(answer.isError());
        assertEquals(List.of(), calls);
    }

    @Test
    void quoteGivesBackWhatSplitReads()
    {
        for (final String word : List.of("plain", "two words", "", "a\"b", "c\\d", "\"", "tab\there"))
        {
            assertEquals(List.of("x", word, "y"),
                CommandDispatcher.split("x " + CommandDispatcher.quote(word) + " y"), word);
        }
        assertEquals("plain", CommandDispatcher.quote("plain"));
    }

    @Test
    void quotedWordsReachTheHandler()
    {
        dispatcher.dispatch("show flows \"1 0\"");
        assertEquals(List.of(List.of("show flows", "1 0")), calls);
    }

    @Test
    void theLongestMatchingNameWins()
    {
        dispatcher.dispatch("show stat");
        dispatcher.dispatch("show flows 7");
        dispatcher.dispatch("show other");
        assertEquals(List.of(List.of("show stat"), List.of("show flows", "7"), List.of("show", "other")), calls);
    }

    @Test
    void anUnknownCommandNamesWhatWasTyped()
    {
        assertEquals("error: unknown command 'xyz'; try 'help'\n", dispatcher.dispatch("xyz 1 2").text());
        assertEquals("error: unknown command 'set color'; try 'help'\n", dispatcher.dispatch("set color red").text());
        assertEquals(List.of(), calls);
    }

    @Test
    void aMisspeltCommandGetsASuggestion()
    {
        assertEquals("error: unknown command 'set wieght' (did you mean 'set weight'?); try 'help'\n",
            dispatcher.dispatch("set wieght web 198.18.1.11 5").text());
    }

    @Test
    void anIncompleteCommandListsWhatMayFollow()
    {
        assertEquals("error: incomplete command 'set': follow it with one of weight; try 'help'\n",
            dispatcher.dispatch("set").text());
    }

    @Test
    void argumentsAreCountedAgainstTheUsage()
    {
        assertEquals("error: missing BACKEND; usage: set weight SERVICE BACKEND WEIGHT\n",
            dispatcher.dispatch("set weight web").text());
        assertEquals("error: too many arguments ('8' is one too many); usage: show flows [N] [json]\n",
            dispatcher.dispatch("show flows 7 8").text());
        assertEquals("error: too many arguments ('x' is one too many); usage: show stat [json]\n",
            dispatcher.dispatch("show stat x").text());
        assertEquals(List.of(), calls);
    }

    @Test
    void aBadArgumentIsNamed()
    {
        assertEquals("error: invalid WEIGHT: expected an integer 0..10000, got 'heavy'\n",
            dispatcher.dispatch("set weight web 198.18.1.11 heavy").text());
        assertEquals(List.of(), calls);
    }

    @Test
    void aCommandExceptionBecomesOneErrorLine()
    {
        final Answer answer = dispatcher.dispatch("del service nope");
        assertEquals("error: unknown service 'nope'\n", answer.text());
        assertFalse(answer.closesConnection());
        assertEquals(List.of(), log);
    }

    @Test
    void aFailingHandlerIsLoggedAndAnsweredWithoutDetailsLeakingAsAStackTrace()
    {
        final Answer answer = dispatcher.dispatch("crash");
        assertEquals("error: internal error in 'crash': IllegalStateException: boom\n", answer.text());
        assertEquals(1, log.size());
        assertTrue(log.get(0).contains("command 'crash' failed"), log.get(0));
    }

    @Test
    void aTrailingJsonWordAsksForJson()
    {
        assertEquals("NAME  COUNT\na         1\nbb       22\n", dispatcher.dispatch("show stat").text());
        assertEquals("[{\"name\":\"a\",\"count\":1},{\"name\":\"bb\",\"count\":22}]\n",
            dispatcher.dispatch("show stat json").text());
        assertEquals("{\"message\":\"flows\"}\n", dispatcher.dispatch("show flows 3 json").text());
        assertEquals(List.of(List.of("show stat"), List.of("show stat"), List.of("show flows", "3")), calls);
    }

    @Test
    void jsonIsAnOrdinaryWordForTextOnlyCommands()
    {
        assertEquals("error: unknown service 'json'\n", dispatcher.dispatch("del service json").text());
    }

    @Test
    void anEmptyLineGetsAnEmptyAnswer()
    {
        assertEquals(new Answer("", false), dispatcher.dispatch(""));
        assertEquals(new Answer("", false), dispatcher.dispatch(" \t "));
    }

    @Test
    void answersNeverHoldAnEmptyLine()
    {
        assertEquals("one\ntwo\n", dispatcher.dispatch("blank").text());
    }

    @Test
    void helpListsEveryCommandWithUsageAndDescription()
    {
        final String help = dispatcher.dispatch("help").text();
        final String[] lines = help.split("\n");
        assertEquals(9, lines.length, help);
        assertTrue(lines[0].matches("help +list the commands"), lines[0]);
        assertTrue(lines[1].matches("quit +close this connection"), lines[1]);
        assertTrue(help.contains("show stat [json]"), help);
        assertTrue(help.contains("show flows [N] [json]"), help);
        assertTrue(help.contains("set weight SERVICE BACKEND WEIGHT"), help);
        // Descriptions start in one column.
        final int column = lines[0].indexOf("list");
        assertEquals(column, lines[2].indexOf("statistics"));
    }

    @Test
    void quitClosesWithoutAnAnswer()
    {
        assertEquals(new Answer("", true), dispatcher.dispatch("quit"));
    }

    @Test
    void aNameCannotBeRegisteredTwiceNorRequiredArgumentsFollowOptionalOnes()
    {
        assertThrows(IllegalArgumentException.class,
            () -> dispatcher.register("show stat", "", "again", Output.TEXT, arguments -> Reply.message("")));
        assertThrows(IllegalArgumentException.class,
            () -> dispatcher.register("odd", "[A] B", "bad usage", Output.TEXT, arguments -> Reply.message("")));
    }
}
