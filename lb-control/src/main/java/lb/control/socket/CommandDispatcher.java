package lb.control.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import lb.control.config.Values;

/**
 * Turns one line of the control socket into one answer.
 * <p>
 * A line is split into words at spaces and tabs; a word in double quotes may hold spaces, and
 * inside quotes {@code \"} and {@code \\} stand for a quote and a backslash. The command is the
 * registered name that matches the most leading words ({@code show stat}, {@code set weight});
 * the rest are its arguments, counted against its usage before the handler runs.
 * <p>
 * <b>JSON convention</b>: every command registered with {@link Output#TEXT_OR_JSON} (all
 * {@code show} commands) answers in JSON when its last word is {@code json}, as in
 * {@code show stat json} or {@code show flows 10 json}. Other commands answer one line of text.
 * An error is always the one text line {@code error: <message>}, in either form.
 * <p>
 * {@code help} and {@code quit} are built in. Not thread-safe: one thread dispatches.
 */
public final class CommandDispatcher
{
    /** The word that asks for the JSON form. */
    public static final String JSON_WORD = "json";
    /** What an answer that is an error starts with. */
    public static final String ERROR_PREFIX = "error: ";

    /** Which forms a command answers in. */
    public enum Output
    {
        /** Text only: a trailing {@code json} word is an ordinary argument. */
        TEXT,
        /** Text, or JSON when the last word is {@code json}. */
        TEXT_OR_JSON
    }

    /**
     * The answer to one line.
     *
     * @param text             whole lines, each ended by {@code \n}, none of them empty; the empty
     *                         string for an empty answer.
     * @param closesConnection whether the connection closes after it ({@code quit}).
     */
    public record Answer(String text, boolean closesConnection)
    {
        /** @return whether the answer is an error line. */
        public boolean isError()
        {
            return text.startsWith(ERROR_PREFIX);
        }
    }

    private record Command(
        List<String> name, String arguments, int required, int maximum, String description, Output output,
        CommandHandler handler)
    {
        String fullName()
        {
            return String.join(" ", name);
        }

        String usage()
        {
            final String words = arguments.isEmpty() ? fullName() : fullName() + " " + arguments;
            return output == Output.TEXT_OR_JSON ? words + " [" + JSON_WORD + "]" : words;
        }
    }

    private final List<Command> commands = new ArrayList<>();
    private final Consumer<String> log;

    /**
     * @param log where unexpected handler failures are reported (the answer says only "internal error").
     */
    public CommandDispatcher(final Consumer<String> log)
    {
        this.log = log;
        register("help", "", "list the commands", Output.TEXT, arguments -> Reply.of(helpText(), helpJson()));
        register("quit", "", "close this connection", Output.TEXT, arguments -> Reply.quit());
    }

    /**
     * Adds a command.
     *
     * @param name        one or more words, for example {@code set weight}.
     * @param arguments   the usage of its arguments, words separated by spaces; a word in
     *                    {@code [brackets]} is optional, so {@code "SERVICE [N]"} takes one or two.
     *                    Optional words come last.
     * @param description one line for {@code help}.
     * @param output      whether it also answers in JSON.
     * @param handler     carries it out.
     * @return this dispatcher.
     */
    public CommandDispatcher register(
        final String name, final String arguments, final String description, final Output output,
        final CommandHandler handler)
    {
        final List<String> nameWords = List.of(name.trim().split("\\s+"));
        for (final Command command : commands)
        {
            if (command.name().equals(nameWords))
            {
                throw new IllegalArgumentException("command '" + name + "' is registered twice");
            }
        }
        int required = 0;
        int maximum = 0;
        for (final String word : arguments.trim().isEmpty() ? new String[0] : arguments.trim().split("\\s+"))
        {
            maximum++;
            if (!word.startsWith("["))
            {
                if (required != maximum - 1)
                {
                    throw new IllegalArgumentException("required argument '" + word + "' after an optional one");
                }
                required++;
            }
        }
        commands.add(new Command(nameWords, arguments.trim(), required, maximum, description, output, handler));
        return this;
    }

    /**
     * Carries out one line. Never throws: every failure becomes an {@code error:} answer.
     *
     * @param line the line without its line break.
     * @return the answer.
     */
    public Answer dispatch(final String line)
    {
        final List<String> words;
        try
        {
            words = split(line);
        }
        catch (final CommandException ex)
        {
            return error(ex.getMessage());
        }
        if (words.isEmpty())
        {
            return new Answer("", false);
        }

        final Command command = find(words);
        if (command == null)
        {
            return error(unknown(words));
        }

        final List<String> rest = new ArrayList<>(words.subList(command.name().size(), words.size()));
        boolean json = false;
        if (command.output() == Output.TEXT_OR_JSON && !rest.isEmpty() && rest.get(rest.size() - 1).equals(JSON_WORD))
        {
            json = true;
            rest.remove(rest.size() - 1);
        }
        if (rest.size() < command.required())
        {
            final String missing = command.arguments().split("\\s+")[rest.size()];
            return error("missing " + missing + "; usage: " + command.usage());
        }
        if (rest.size() > command.maximum())
        {
            return error("too many arguments ('" + rest.get(command.maximum()) + "' is one too many); usage: " +
                command.usage());
        }

        try
        {
            final Reply reply = command.handler().handle(new Arguments(rest));
            return new Answer(withoutEmptyLines(json ? reply.json() + "\n" : reply.text()), reply.closesConnection());
        }
        catch (final CommandException ex)
        {
            return error(ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            log.accept("control socket: command '" + command.fullName() + "' failed: " + ex);
            return error("internal error in '" + command.fullName() + "': " + ex.getClass().getSimpleName() +
                (ex.getMessage() == null ? "" : ": " + ex.getMessage()));
        }
    }

    /**
     * Splits a line into words: spaces and tabs separate words; double quotes group, and inside
     * them {@code \"} and {@code \\} escape; {@code ""} is an empty word. Quoted and unquoted
     * parts that touch form one word, as in a shell.
     *
     * @param line a command line.
     * @return its words.
     * @throws CommandException if a quote is not closed.
     */
    public static List<String> split(final String line)
    {
        final List<String> words = new ArrayList<>();
        final StringBuilder word = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            if (quoted)
            {
                if (c == '"')
                {
                    quoted = false;
                }
                else if (c == '\\' && i + 1 < line.length() && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\\'))
                {
                    word.append(line.charAt(++i));
                }
                else
                {
                    word.append(c);
                }
            }
            else if (c == ' ' || c == '\t')
            {
                if (inWord)
                {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
                inWord = true;
            }
            else
            {
                word.append(c);
                inWord = true;
            }
        }
        if (quoted)
        {
            throw new CommandException("unterminated quote in '" + line + "'");
        }
        if (inWord)
        {
            words.add(word.toString());
        }
        return words;
    }

    /**
     * Quotes a word so {@link #split} gives it back unchanged: words without spaces, tabs, quotes
     * or backslashes, and not empty, stay as they are.
     *
     * @param word any word.
     * @return it, quoted if needed.
     */
    public static String quote(final String word)
    {
        boolean plain = !word.isEmpty();
        for (int i = 0; i < word.length() && plain; i++)
        {
            final char c = word.charAt(i);
            plain = c != ' ' && c != '\t' && c != '"' && c != '\\';
        }
        if (plain)
        {
            return word;
        }
        return '"' + word.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** @return the usage lines of {@code help}: each command, its arguments, and what it does. */
    public String helpText()
    {
        int width = 0;
        for (final Command command : commands)
        {
            width = Math.max(width, command.usage().length());
        }
        final StringBuilder out = new StringBuilder();
        for (final Command command : commands)
        {
            out.append(command.usage()).append(" ".repeat(width - command.usage().length() + 2))
                .append(command.description()).append('\n');
        }
        return out.toString();
    }

    private List<Object> helpJson()
    {
        final List<Object> list = new ArrayList<>();
        for (final Command command : commands)
        {
            final Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("command", command.fullName());
            entry.put("usage", command.usage());
            entry.put("description", command.description());
            list.add(entry);
        }
        return list;
    }

    /** The command whose name matches the most leading words, or null. */
    private Command find(final List<String> words)
    {
        Command best = null;
        for (final Command command : commands)
        {
            final List<String> name = command.name();
            if (name.size() <= words.size() && words.subList(0, name.size()).equals(name) &&
                (best == null || name.size() > best.name().size()))
            {
                best = command;
            }
        }
        return best;
    }

    /** Names the unknown command as far as the user typed it, and what was close to it. */
    private String unknown(final List<String> words)
    {
        // The typed command: the leading words some command starts with, plus the first that none does.
        int known = 0;
        while (known < words.size() && startsAny(words.subList(0, known + 1)))
        {
            known++;
        }
        if (known == words.size())
        {
            final Set<String> next = new LinkedHashSet<>();
            for (final Command command : commands)
            {
                if (command.name().size() > known && command.name().subList(0, known).equals(words))
                {
                    next.add(command.name().get(known));
                }
            }
            return "incomplete command '" + String.join(" ", words) + "': follow it with one of " +
                String.join(", ", next) + "; try 'help'";
        }
        final String typed = String.join(" ", words.subList(0, known + 1));
        final List<String> names = new ArrayList<>();
        for (final Command command : commands)
        {
            names.add(command.fullName());
        }
        return "unknown command '" + typed + "'" + Values.didYouMean(typed, names) + "; try 'help'";
    }

    private boolean startsAny(final List<String> prefix)
    {
        for (final Command command : commands)
        {
            if (command.name().size() >= prefix.size() && command.name().subList(0, prefix.size()).equals(prefix))
            {
                return true;
            }
        }
        return false;
    }

    private static Answer error(final String message)
    {
        return new Answer(ERROR_PREFIX + message.replace('\r', ' ').replace('\n', ' ') + "\n", false);
    }

    /** The socket ends an answer with an empty line, so an answer must not hold one. */
    private static String withoutEmptyLines(final String text)
    {
        if (!text.contains("\n\n") && !text.startsWith("\n"))
        {
            return text;
        }
        final StringBuilder out = new StringBuilder(text.length());
        for (final String line : text.split("\n"))
        {
            if (!line.isEmpty())
            {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }
}
